"""`btc --verify FILE`: compile the program and load it into the kernel
(the verifier checks every probe) without attaching it.

A rejection is reported at the code that produced the instruction the
verifier refused: the object's BTF line info gives that instruction's line
and column (runtime/lineinfo.py), and the codegen's table of locations
(CompiledProgram.locations) the source span they stand for. Without them
(a log that names no instruction, a callback's instruction) the line the
verifier's log gives, else the probe's first line.

`--diagnostics-format json` prints one JSON object on stdout instead of
text on stderr, for the language server (btls/verify.py):

    {"file": NAME, "verified": BOOL, "programs": N, "diagnostics": [
        {"source": "verifier" | "btc", "code": CODE, "severity": "error" | "warning" | ...,
         "message": TEXT,            # the verifier's own complaint, e.g. "R0 invalid mem access 'scalar'"
         "detail": TEXT,             # the one-paragraph error (probe, line), as the text mode prints it
         "span": {"start": B, "end": B} | null,          # UTF-8 byte offsets in the file
         "range": {"start": {"line": L, "column": C}, "end": {...}} | null,  # from 1, byte columns
         "probe": {"name": ..., "line": L} | null, "instruction": N | null, "log": TEXT}, ...]}

`source` is "verifier" for what the kernel said and "btc" for what the
compiler said (errors in the script, constructs the backend does not
lower, a kernel that refuses to load anything).
"""

from __future__ import annotations

import json
import sys

EXIT_OK, EXIT_ERROR = 0, 1


def verify(item, args, positional: list[str]) -> int:
    from .cli import kernel_facts
    from .cli_run import _object_name
    from .codegen.compile import Options, codegen_diagnostic, compile_program
    from .codegen.errors import CodegenError
    from .diagnostics import has_errors
    from .semantic.analysis import analyse

    report = _Report(item.name, json_mode=getattr(args, "diagnostics_format", "text") == "json")
    facts = kernel_facts(args)
    result = analyse(item.text, facts, unsafe=args.unsafe, name=item.name, positional=tuple(positional))
    source = result.source
    diagnostics = result.diagnostics
    if has_errors(result.parsed.diagnostics):
        diagnostics = result.parsed.diagnostics
    if args.no_warnings:
        diagnostics = [d for d in diagnostics if d.is_error]
    report.compiler(diagnostics, source)
    if has_errors(diagnostics):
        return report.finish(False)
    options = Options(positional=tuple(positional), unsafe=args.unsafe)
    try:
        compiled = compile_program(result, facts, options, name=_object_name(item.name))
    except CodegenError as exc:
        report.compiler([codegen_diagnostic(exc)], source)
        return report.finish(False)
    return _load(compiled, source, report, verbose=args.verbose)


def _load(compiled, source, report: "_Report", verbose: bool) -> int:
    from .runtime.errors import ProbeRejected, RuntimeFailure
    from .runtime.loader import LoadedProgram

    report.programs = len(compiled.info.probes)
    try:
        with LoadedProgram(compiled):
            pass
    except ProbeRejected as exc:
        report.rejected(exc, rejection_span(exc, compiled, source), source, verbose)
        return report.finish(False)
    except RuntimeFailure as exc:
        report.failure(str(exc))
        return report.finish(False)
    return report.finish(True)


def rejection_span(exc, compiled, source):
    """Where in the source the verifier's refusal belongs: the code that
    produced the failing instruction, else the line the log names, else
    the probe's first line (a Span, or None when not even that is known)."""
    from .runtime.lineinfo import line_at
    from .source import Span

    probe = exc.probe
    if exc.instruction is not None and probe is not None:
        found = line_at(compiled.object, probe.function, exc.instruction)
        if found is not None and found.column:
            span = compiled.locations.get((found.line, found.column))
            if span is not None:
                return span
        if found is not None:
            return _line_span(source, found.line)
    for line in (exc.source_line, probe.line if probe is not None else None):
        if line:
            span = _line_span(source, line)
            if span is not None:
                return span
    return Span(0, 0) if probe is not None else None


def _line_span(source, line: int):
    """Line `line` (from 1) without its leading and trailing blanks."""
    from .source import Span

    lines = source.lines
    if not 1 <= line <= lines.line_count:
        return None
    whole = lines.line_span(line - 1)
    text = lines.data[whole.start:whole.end]
    start = whole.start + (len(text) - len(text.lstrip()))
    end = whole.end - (len(text) - len(text.rstrip()))
    return Span(start, max(start, end))


class _Report:
    """What verifying found, printed as text (stderr) or JSON (stdout)."""

    def __init__(self, name: str, json_mode: bool) -> None:
        self.name = name
        self.json_mode = json_mode
        self.programs = 0
        self.items: list[dict] = []

    def compiler(self, diagnostics, source) -> None:
        from .diagnostics import render_all

        if not self.json_mode:
            sys.stderr.write(render_all(diagnostics, source))
            return
        for d in diagnostics:
            self.items.append({
                "source": "btc", "code": d.code, "severity": d.severity.name.lower(), "message": d.message,
                "detail": d.message, "hints": list(d.hints), **_where(source, d.span),
                "probe": None, "instruction": None, "log": "",
            })  # fmt: skip

    def rejected(self, exc, span, source, verbose: bool) -> None:
        from .diagnostics import error, render
        from .runtime.lineinfo import log_excerpt

        excerpt = log_excerpt(exc.verifier_log, exc.reason, exc.instruction)
        if not self.json_mode:
            if span is None:
                print(f"{self.name}: ERROR: {exc}", file=sys.stderr)
            else:
                sys.stderr.write(render(error("verifier", str(exc), span), source))
            if verbose and excerpt:
                print(f"the verifier's log, ending:\n{excerpt}", file=sys.stderr)
            return
        probe = exc.probe
        self.items.append({
            "source": "verifier", "code": "verifier", "severity": "error",
            "message": exc.reason or str(exc), "detail": str(exc), "hints": [],
            **_where(source, span),
            "probe": {"name": probe.name, "line": probe.line} if probe is not None else None,
            "instruction": exc.instruction, "log": excerpt,
        })  # fmt: skip

    def failure(self, message: str) -> None:
        if not self.json_mode:
            print(f"{self.name}: ERROR: {message}", file=sys.stderr)
            return
        self.items.append({
            "source": "btc", "code": "load", "severity": "error", "message": message, "detail": message,
            "hints": [], "span": None, "range": None, "probe": None, "instruction": None, "log": "",
        })  # fmt: skip

    def finish(self, verified: bool) -> int:
        if self.json_mode:
            document = {"file": self.name, "verified": verified, "programs": self.programs, "diagnostics": self.items}
            sys.stdout.write(json.dumps(document) + "\n")
        elif verified:
            count = self.programs
            print(f"{self.name}: {count} program{'s' * (count != 1)} passed the kernel verifier", file=sys.stderr)
        return EXIT_OK if verified else EXIT_ERROR


def _where(source, span) -> dict:
    if span is None:
        return {"span": None, "range": None}
    start_line, start_column = source.lines.line_col(span.start)
    end_line, end_column = source.lines.line_col(span.end)
    return {
        "span": {"start": span.start, "end": span.end},
        "range": {"start": {"line": start_line, "column": start_column},
                  "end": {"line": end_line, "column": end_column}},
    }  # fmt: skip

