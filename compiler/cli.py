"""`btc`: the command-line front end, shaped like `bpftrace`.

    btc FILE [ARGS...]           compile FILE and run it (cli_run.py)
    btc -e 'PROGRAM' [ARGS...]   the same for a program given inline
    btc --emit llvm|obj FILE     print (or -o write) the LLVM IR or BPF object
    btc --verify FILE            load into the kernel, without attaching (cli_verify.py)
    btc --check FILE...          parse (and analyse) the files, print problems
    btc --check -e 'PROGRAM'     the same for a program given inline
    btc --emit ast FILE          print the syntax tree
    btc --emit types FILE        print every map and variable with its type
    btc --fmt [-i|--check] FILE...  print the files formatted (-i: rewrite them; --check: list changes)
    btc -l [PATTERN]             list probes, like bpftrace -l (-lv: with args)

Diagnostics go to stderr in bpftrace's format; the exit status is 1 when any
error was found and 0 otherwise. This module reads files and prints; it has
no compiler logic of its own, and never shows a traceback for bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from . import __version__
from .source import MAX_SOURCE_BYTES

# The frontend (lark, the analyser) is imported only by the commands that
# use it: a cached program runs without it (cli_run.py).

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


@dataclass
class Input:
    name: str
    text: str


class InputError(Exception):
    """A file that cannot be used as a program; the message says why."""


def read_program(path: str) -> Input:
    """Read a program file as UTF-8 text, or raise InputError."""
    try:
        size = os.stat(path).st_size
        if size > MAX_SOURCE_BYTES:
            raise InputError(
                f"{path}: file too large ({size / (1 << 20):.1f} MiB); "
                f"a program may be at most {MAX_SOURCE_BYTES // 1024} KiB"
            )
        with open(path, "rb") as f:
            data = f.read(MAX_SOURCE_BYTES + 1)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SOURCE_BYTES:  # grew while we looked, or a device
        raise InputError(f"{path}: file too large; a program may be at most {MAX_SOURCE_BYTES // 1024} KiB")
    if b"\0" in data:
        raise InputError(f"{path}: not a text file (it contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    return Input(path, text)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse makes a formatter for every add_argument() (to check its
    metavar), and each one asks shutil for the terminal's width: importing
    shutil is 2 ms of every run, for a width only --help and usage errors
    need. So the width is looked up here, the way shutil does it, once."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width=None) -> None:
        if width is None:
            width = _terminal_columns() - 2  # what HelpFormatter does with shutil's width
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="btc",
        description="Compile and check bpftrace programs.",
        epilog="Examples:\n  btc --check script.bt\n  btc --check -e 'BEGIN { printf(\"hi\\n\"); }'",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("-e", dest="program", metavar="PROGRAM", help="the program text")
    parser.add_argument("--check", action="store_true", help="check the program(s) and exit")
    parser.add_argument("--fmt", action="store_true",
                        help="print the program(s) formatted; with --check, list those that would change")
    parser.add_argument("-i", dest="in_place", action="store_true", help="with --fmt: rewrite the files")
    parser.add_argument(
        "--emit", choices=["ast", "types", "llvm", "obj"], metavar="WHAT",
        help="print an intermediate form: ast (the syntax tree), types, llvm (IR) or obj (the BPF object)",
    )  # fmt: skip
    parser.add_argument("--verify", action="store_true",
                        help="load the program into the kernel (the verifier checks it) without attaching it")
    parser.add_argument("--diagnostics-format", choices=["text", "json"], default="text", metavar="FORMAT",
                        help="with --verify: text (the default) or json (one object on stdout, for editors)")
    parser.add_argument("-c", dest="command", metavar="CMD", help="run CMD, trace it, and stop when it ends")
    parser.add_argument("-p", dest="pid", type=int, metavar="PID", help="stop when process PID ends")
    parser.add_argument("-o", dest="output", metavar="FILE", help="write the output to FILE")
    parser.add_argument("-f", dest="format", choices=["text", "json"], default="text",
                        help="output format: text (the default) or json")
    parser.add_argument("-q", dest="quiet", action="store_true", help="do not print 'Attaching N probes...'")
    parser.add_argument(
        "-l", dest="list", nargs="?", const="*", metavar="PATTERN",
        help="list probes matching PATTERN (wildcards allowed), like bpftrace -l",
    )  # fmt: skip
    parser.add_argument("--unsafe", action="store_true", help="allow unsafe builtins such as system()")
    parser.add_argument(
        "--no-kernel", action="store_true",
        help="check without kernel facts (BTF, tracepoint formats): fewer types are known",
    )  # fmt: skip
    parser.add_argument("--no-warnings", action="store_true", help="do not print warnings")
    parser.add_argument("-v", dest="verbose", action="store_true",
                        help="say what was checked; when running, each program's size and verifier statistics")
    parser.add_argument("-V", "--version", action="version", version=f"btc {__version__}")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="the program file (with --check: files), then the program's arguments ($1, $2...)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_split_lv(argv if argv is not None else sys.argv[1:]))
    if args.list is not None:
        return list_probes(args)
    if args.program is None and not args.files:
        print("btc: no program given (a FILE or -e 'PROGRAM')", file=sys.stderr)
        return EXIT_USAGE
    if args.fmt:
        from .cli_fmt import run_fmt

        return run_fmt(args)
    if not args.check and args.emit not in ("ast", "types"):
        return run(args)

    if args.program is not None:
        inputs = [Input("stdin", args.program)]
    else:
        inputs = []
        for path in args.files:
            try:
                inputs.append(read_program(path))
            except InputError as exc:
                print(f"btc: {exc}", file=sys.stderr)
                return EXIT_ERROR

    facts = kernel_facts(args)
    status = EXIT_OK
    for item in inputs:
        if not check_one(item, args, facts):
            status = EXIT_ERROR
    return status


def run(args) -> int:
    """Compile and run one program; the arguments after it are $1, $2..."""
    from .cli_run import run_program

    if args.program is not None:
        item, positional = Input("stdin", args.program), args.files
    else:
        try:
            item = read_program(args.files[0])
        except InputError as exc:
            print(f"btc: {exc}", file=sys.stderr)
            return EXIT_ERROR
        positional = args.files[1:]
    return run_program(item, args, positional)


def kernel_facts(args):
    """This machine's kernel facts, unless --no-kernel (imported lazily)."""
    from .kernel.facts import NoFacts

    if args.no_kernel:
        return NoFacts()
    from .kernel.live import default_facts

    return default_facts()


def check_one(item: Input, args, facts) -> bool:
    """Analyse one program, print its diagnostics (and what --emit asks
    for); True if there were no errors."""
    from .diagnostics import has_errors, render_all
    from .semantic.analysis import analyse
    from .semantic.typedump import dump_types
    from .syntax.dump import dump

    result = analyse(item.text, facts, unsafe=args.unsafe, name=item.name)
    diagnostics = result.diagnostics
    if has_errors(result.parsed.diagnostics):
        # Like bpftrace, stop at the first stage that fails: what the
        # analyser says about a broken program is mostly noise.
        diagnostics = result.parsed.diagnostics
    if args.no_warnings:
        diagnostics = [d for d in diagnostics if d.is_error]
    if args.emit == "ast":
        sys.stdout.write(dump(result.program, result.source))
    elif args.emit == "types":
        sys.stdout.write(dump_types(result))
    if not item.text.strip():
        print(f"{item.name}: WARNING: the program is empty", file=sys.stderr)
    sys.stderr.write(render_all(diagnostics, result.source))
    ok = not has_errors(result.diagnostics)
    if args.verbose:
        probes = len(result.program.probes)
        errors = sum(d.is_error for d in result.diagnostics)
        verdict = "ok" if ok else f"{errors} error{'s' * (errors != 1)}"
        print(f"{item.name}: {probes} probe{'s' * (probes != 1)}, {verdict}", file=sys.stderr)
    return ok


def list_probes(args) -> int:
    from .kernel.listing import list_probes as listing

    pattern = args.list
    if pattern == "*" and args.files:  # `btc -l 'pattern'` after other options
        pattern = args.files[0]
    lines = listing(kernel_facts(args), None if pattern == "*" else pattern, args.verbose)
    for line in lines:
        print(line)
    return EXIT_OK


def _split_lv(argv: list[str]) -> list[str]:
    """bpftrace spells `-l -v` as `-lv`; so do we."""
    return [part for arg in argv for part in (["-v", "-l"] if arg == "-lv" else [arg])]


def entry_point() -> None:
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # `btc --emit ast x.bt | head`
        code = EXIT_OK
    except Exception as exc:  # a bug of ours: one line, unless asked for more
        if os.environ.get("BTC_DEBUG"):
            raise
        print(f"btc: internal error: {type(exc).__name__}: {exc} (set BTC_DEBUG=1 for the traceback)",
              file=sys.stderr)  # fmt: skip
        code = EXIT_ERROR
    _leave(code)


def _leave(code: int) -> None:
    """Ends the process without the interpreter's tear-down, which frees
    every object one by one (after printing a 100k-key map: about 40 ms).
    Nothing of ours needs it: the runtime has detached and closed its
    programs in `finally` blocks, no thread is left running, and nothing
    registers atexit work; what the streams buffer is flushed here."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except (OSError, ValueError):
        code = code or EXIT_ERROR
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


if __name__ == "__main__":
    entry_point()
