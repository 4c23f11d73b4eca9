"""`btc --fmt`: format program files (the formatting is compiler/format's).

    btc --fmt FILE...            print each file formatted
    btc --fmt -i FILE...         rewrite the files that are not formatted
    btc --fmt --check FILE...    list the files that are not formatted; exit 1 if any

A file with syntax errors is not formatted: its errors are printed and the
exit status is 1. `-e PROGRAM` formats an inline program to stdout.
"""

from __future__ import annotations

import os
import sys

EXIT_OK, EXIT_ERROR = 0, 1


def run_fmt(args) -> int:
    from .cli import Input, InputError, read_program
    from .diagnostics import render_all
    from .format import format_program
    from .syntax import parse

    status = EXIT_OK
    for name in ["stdin"] if args.program is not None else args.files:
        if args.program is not None:
            item = Input("stdin", args.program)
        else:
            try:
                item = read_program(name)
            except InputError as exc:  # unreadable, binary, too large
                print(f"btc: {exc}", file=sys.stderr)
                status = EXIT_ERROR
                continue
        parsed = parse(item.text, item.name)
        result = format_program(item.text, parsed)
        if result is None:
            errors = [d for d in parsed.diagnostics if d.is_error]
            if errors:
                sys.stderr.write(render_all(errors, parsed.source))
            else:
                print(f"btc: {item.name}: not formatted (the formatter could not keep its meaning)",
                      file=sys.stderr)  # fmt: skip
            status = EXIT_ERROR
            continue
        if args.check:
            if result.changed:
                print(f"{item.name}: would be reformatted")
                status = EXIT_ERROR
        elif args.in_place and item.name != "stdin":
            if result.changed:
                try:
                    _write(item.name, result.text)
                except OSError as exc:
                    print(f"btc: cannot write {item.name}: {exc.strerror or exc}", file=sys.stderr)
                    status = EXIT_ERROR
        else:
            sys.stdout.write(result.text)
    return status


def _write(path: str, text: str) -> None:
    """Replace the file's contents (through a temporary file, so that an
    interrupted write leaves the old program, not half of the new one)."""
    temporary = f"{path}.btc-fmt.tmp"
    with open(temporary, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    try:
        os.chmod(temporary, os.stat(path).st_mode & 0o7777)
    except OSError:
        pass
    os.replace(temporary, path)
