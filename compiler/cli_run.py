"""`btc FILE` and `btc -e PROGRAM`: compile a program and run it, as
bpftrace does; also `--emit llvm|obj`, and `--verify` (cli_verify.py).

Every failure a user can meet (a bad script, a construct the backend does
not lower, a probe the kernel refuses, no privileges, a missing libbpf, a
bad `-c` command) is printed as one `ERROR:` paragraph and exit status 1;
none shows a traceback.
"""

from __future__ import annotations

import os
import sys

from . import objcache

EXIT_OK, EXIT_ERROR = 0, 1


def run_program(item, args, positional: list[str]) -> int:
    """Compile `item` (an Input) and run it, or emit/verify it. A program
    compiled before (objcache.py) runs without the frontend or LLVM."""
    if args.verify:
        from .cli_verify import verify

        return verify(item, args, positional)
    cacheable = not (args.command or args.emit or args.verify or os.environ.get("BTC_NO_CACHE"))
    key = ""
    if cacheable:
        flags = {"unsafe": args.unsafe, "no_kernel": args.no_kernel, "no_warnings": args.no_warnings,
                 "name": item.name}  # fmt: skip
        key = objcache.cache_key(item.text, positional, flags)
        hit = objcache.load(key)
        if hit is not None:
            from .runtime.program import CompiledProgram, ProgramInfo

            obj, info, printed = hit
            sys.stderr.write(printed)
            return _run(CompiledProgram(obj, ProgramInfo.from_json(info)), args, None)

    from .codegen.compile import Options, codegen_diagnostic, compile_program
    from .codegen.errors import CodegenError
    from .diagnostics import has_errors, render_all
    from .semantic.analysis import analyse

    facts = _facts(args)
    result = analyse(item.text, facts, unsafe=args.unsafe, name=item.name, positional=tuple(positional))
    diagnostics = result.diagnostics
    if has_errors(result.parsed.diagnostics):
        diagnostics = result.parsed.diagnostics
    if args.no_warnings:
        diagnostics = [d for d in diagnostics if d.is_error]
    printed = render_all(diagnostics, result.source)
    sys.stderr.write(printed)
    if has_errors(diagnostics):
        return EXIT_ERROR

    try:
        child = _child(args)
    except RunError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_ERROR
    options = Options(positional=tuple(positional), unsafe=args.unsafe, cpid=child.pid if child else 0)
    try:
        compiled = compile_program(result, facts, options, name=_object_name(item.name))
    except CodegenError as exc:
        if child is not None:
            child.stop()
        sys.stderr.write(render_all([codegen_diagnostic(exc)], result.source))
        return EXIT_ERROR

    if key:
        objcache.store(key, compiled.object, compiled.info.to_json(), printed)
    if args.emit == "llvm":
        return _write_output(args, compiled.llvm_ir.encode())
    if args.emit == "obj":
        return _write_output(args, compiled.object)
    return _run(compiled, args, child)


def _run(compiled, args, child) -> int:
    import signal

    from .runtime.errors import RuntimeFailure
    from .runtime.session import Session, SessionOptions

    # The session handles SIGINT/SIGTERM while it runs; a second Ctrl-C that
    # arrives as it finishes must not kill the process with its output done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    options = SessionOptions(json=args.format == "json", quiet=args.quiet, child=child,
                             watch_pid=args.pid or 0, unsafe=args.unsafe, verbose=args.verbose)  # fmt: skip
    output = None
    try:
        if args.output:
            output = open(args.output, "wb")
            options.output, options.output_is_file = output, True
        return Session(compiled, options).run()
    except RuntimeFailure as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"ERROR: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if output is not None:
            output.close()


def _write_output(args, data: bytes) -> int:
    if args.output:
        try:
            with open(args.output, "wb") as f:
                f.write(data)
        except OSError as exc:
            print(f"ERROR: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return EXIT_ERROR
    else:
        sys.stdout.buffer.write(data)
    return EXIT_OK


def _child(args):
    if not args.command:
        return None
    import shlex  # here, not at the top: with shutil they cost every run a few ms
    import shutil

    from .runtime.session import Child

    argv = shlex.split(args.command)
    path = shutil.which(argv[0]) if argv else None
    if path is None or not _executable(path):
        raise RunError(f"cannot run the command {args.command!r}: "
                       f"{argv[0] + ' does not exist or is not executable' if argv else 'it is empty'}")  # fmt: skip
    return Child(argv)


def _executable(path: str) -> bool:
    """Something exec can run: an ELF binary or a script with a #! line
    (anything else would fail with "Exec format error" after we started)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head == b"\x7fELF" or head[:2] == b"#!"


class RunError(Exception):
    """A bad command line for running (the message says what)."""


def _facts(args):
    from .kernel.facts import NoFacts
    from .kernel.live import default_facts

    return NoFacts() if args.no_kernel else default_facts()


def _object_name(name: str) -> str:
    base = name.rsplit("/", 1)[-1].removesuffix(".bt")
    return "".join(c if c.isalnum() or c == "_" else "_" for c in base)[:15] or "bpftrace"
