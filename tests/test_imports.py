"""The layering rules of ARCHITECTURE.md, checked.

The frontend must import without llvmlite (the server starts fast), and the
compiler package must never import the editor libraries.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def loaded_after(statements: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh interpreter has loaded after `statements`."""
    code = f"import json, sys\n{statements}\nprint(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))\n"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_frontend_does_not_import_heavy_or_editor_libraries() -> None:
    statements = (
        "import compiler.syntax, compiler.semantic.analysis\n"
        "compiler.semantic.analysis.analyse('BEGIN { printf(\"%d\\\\n\", pid); }')"
    )
    assert loaded_after(statements, ("llvmlite", "pygls", "lsprotocol", "elftools")) == []


def test_the_language_server_starts_without_the_frontend() -> None:
    # The parser, the analyser and kernel facts load with the first document.
    heavy = ("llvmlite", "lark", "compiler.syntax.parser", "compiler.semantic.analysis", "compiler.kernel.live")
    assert loaded_after("import btls.server\nbtls.server.create_server()", heavy) == []


def test_compiler_never_imports_the_lsp_libraries() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(pygls|lsprotocol)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "compiler").rglob("*.py")
        if pattern.search(path.read_text())
    ]
    assert offenders == []


def test_only_the_parser_modules_import_lark() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+lark\b", re.MULTILINE)
    users = sorted(
        path.name for path in (ROOT / "compiler").rglob("*.py") if pattern.search(path.read_text())
    )
    assert users == ["grammar.py", "messages.py", "parser.py", "recovery.py", "to_ast.py", "to_ast_expressions.py"]


def test_the_runtime_needs_neither_the_frontend_nor_llvmlite() -> None:
    # A cached program runs from the runtime alone (objcache.py): it must
    # start without the parser, the analyser or LLVM.
    statements = "import compiler.cli, compiler.cli_run, compiler.objcache, compiler.runtime.session"
    heavy = ("llvmlite", "lark", "compiler.syntax.parser", "compiler.semantic.analysis", "compiler.codegen")
    assert loaded_after(statements, heavy) == []


def test_only_the_backend_touches_libbpf_and_llvm() -> None:
    pattern = re.compile(r"libbpf\.so|llvmlite\.binding")
    users = sorted(
        str(path.relative_to(ROOT / "compiler")) for path in (ROOT / "compiler").rglob("*.py")
        if pattern.search(path.read_text())
    )
    assert all(u.startswith(("runtime/", "codegen/")) for u in users), users
