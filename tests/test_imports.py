"""The layering rules of ARCHITECTURE.md, checked.

The frontend must import without llvmlite (the server starts fast), and the
compiler package must never import the editor libraries.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_frontend_does_not_import_heavy_or_editor_libraries() -> None:
    code = (
        "import sys\n"
        "import compiler.syntax, compiler.semantic.analysis\n"
        "compiler.semantic.analysis.analyse('BEGIN { printf(\"%d\\\\n\", pid); }')\n"
        "print(sorted(m for m in ('llvmlite', 'pygls', 'lsprotocol', 'elftools') if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


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
    code = (
        "import sys\n"
        "import compiler.cli, compiler.cli_run, compiler.objcache, compiler.runtime.session\n"
        "heavy = ('llvmlite', 'lark', 'compiler.syntax.parser', 'compiler.semantic.analysis', 'compiler.codegen')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_only_the_backend_touches_libbpf_and_llvm() -> None:
    pattern = re.compile(r"libbpf\.so|llvmlite\.binding")
    users = sorted(
        str(path.relative_to(ROOT / "compiler")) for path in (ROOT / "compiler").rglob("*.py")
        if pattern.search(path.read_text())
    )
    assert all(u.startswith(("runtime/", "codegen/")) for u in users), users
