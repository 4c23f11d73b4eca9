"""Diagnostics: what every stage reports, and how the CLI prints it.

A `Diagnostic` has a severity, a stable code, a message, a primary span,
related spans with notes (shown as extra locations in the terminal and as
`relatedInformation` in the editor), hints ("how to fix", as text) and
fixes (the same, as edits an editor can apply: a quick fix). Stages return
lists of diagnostics; nothing in the frontend raises on bad user input.

`render()` prints a diagnostic the way bpftrace does:

    file.bt:3:9-12: ERROR: Unknown function: foo
        foo(1);
        ~~~
    HINT: did you mean 'fopen'?
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .source import SourceText, Span


class Severity(enum.IntEnum):
    # The values match LSP's DiagnosticSeverity.
    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Related:
    """A secondary location with a note, e.g. "first assigned here"."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text of `span` with `text` (an insertion when the span
    is empty)."""

    span: Span
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A change that resolves a diagnostic, for an editor to offer. Its edits
    do not overlap. `preferred` marks the one fix to apply without asking
    (set only when there is a single obvious one)."""

    title: str
    edits: tuple[Edit, ...]
    preferred: bool = False


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    span: Span
    related: tuple[Related, ...] = ()
    hints: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def shifted(self, delta: int) -> Diagnostic:
        """The same diagnostic with every span moved by `delta` bytes."""
        if not delta:
            return self

        def move(span: Span) -> Span:
            return Span(span.start + delta, span.end + delta)

        related = tuple(Related(move(r.span), r.message) for r in self.related)
        fixes = tuple(
            Fix(f.title, tuple(Edit(move(e.span), e.text) for e in f.edits), f.preferred) for f in self.fixes
        )
        return Diagnostic(self.severity, self.code, self.message, move(self.span), related, self.hints, fixes)


def error(code: str, message: str, span: Span, *, hints=(), related=(), fixes=()) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, span, tuple(related), tuple(hints), tuple(fixes))


def warning(code: str, message: str, span: Span, *, hints=(), related=(), fixes=()) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, span, tuple(related), tuple(hints), tuple(fixes))


def hint(code: str, message: str, span: Span, *, hints=(), related=(), fixes=()) -> Diagnostic:
    """A suggestion for the editor (LSP's Hint severity); the terminal does
    not print these (see render_all)."""
    return Diagnostic(Severity.HINT, code, message, span, tuple(related), tuple(hints), tuple(fixes))


@dataclass
class DiagnosticSink:
    """Collects diagnostics in the order they are found."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def error(self, code: str, message: str, span: Span, **kwargs) -> None:
        self.items.append(error(code, message, span, **kwargs))

    def warning(self, code: str, message: str, span: Span, **kwargs) -> None:
        self.items.append(warning(code, message, span, **kwargs))

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)


def has_errors(diagnostics) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_for_output(diagnostics) -> list[Diagnostic]:
    """Errors before warnings, each in source order, as bpftrace emits them."""
    return sorted(diagnostics, key=lambda d: (d.severity, d.span.start, d.span.end))


# ---------------------------------------------------------------- rendering

# Longer source lines are shown as a window around the span.
MAX_CONTEXT_BYTES = 240


def format_location(source: SourceText, span: Span) -> str:
    """`name:L:C1-C2`, or `name:L1-L2` for a span over several lines."""
    start_line, start_col = source.lines.line_col(span.start)
    end_line, end_col = source.lines.line_col(span.end)
    if end_line != start_line:
        # An end at the very start of a line belongs to the previous line.
        if end_col == 1 and span.end > span.start:
            end_line, end_col = source.lines.line_col(span.end - 1)
            end_col += 1
    if end_line != start_line:
        return f"{source.name}:{start_line}-{end_line}"
    return f"{source.name}:{start_line}:{start_col}-{end_col}"


def source_context(source: SourceText, span: Span) -> list[str]:
    """The source line(s) a span covers, with a `~` underline for one line."""
    lines = source.lines
    if not lines.data and span.start == 0:
        return []
    first = lines.line_of(span.start)
    last = lines.line_of(max(span.start, span.end - 1))
    if first != last:
        return [lines.line_text(i) for i in range(first, last + 1)]
    line_span = lines.line_span(first)
    if len(line_span) > MAX_CONTEXT_BYTES:
        # A minified or generated line: show a window around the span.
        start = max(line_span.start, span.start - MAX_CONTEXT_BYTES // 4)
        end = min(line_span.end, start + MAX_CONTEXT_BYTES)
        window = lines.data[start:end].decode("utf-8", errors="replace")
        underline = " " * (span.start - start) + "~" * max(1, min(len(span), end - span.start))
        return [window, underline]
    text = lines.line_text(first)
    begin = span.start - line_span.start
    # A zero-width span still gets one '~', just after the text it follows.
    end = max(begin + 1, span.end - line_span.start)
    marks = []
    offset = 0  # byte offset of `char` within the line
    for char in text:
        if offset >= end:
            break
        mark = "~" if offset >= begin else " "
        width = 4 if char == "\t" else 1  # bpftrace shows a tab as 4 spaces
        marks.append(mark * width)
        offset += len(char.encode("utf-8", errors="replace"))
    if end > offset and offset >= line_span.end - line_span.start:
        marks.append("~")
    return [text.replace("\t", "    "), "".join(marks)]


def render(diagnostic: Diagnostic, source: SourceText) -> str:
    """One diagnostic as bpftrace prints it, ending with a newline."""
    label = diagnostic.severity.label
    out = [f"{format_location(source, diagnostic.span)}: {label}: {diagnostic.message}"]
    out.extend(source_context(source, diagnostic.span))
    for related in diagnostic.related:
        out.append(f"{format_location(source, related.span)}: {label}: {related.message}")
        out.extend(source_context(source, related.span))
    for hint in diagnostic.hints:
        out.append(f"HINT: {hint}")
    return "\n".join(out) + "\n"


def render_all(diagnostics, source: SourceText) -> str:
    """Errors and warnings as bpftrace prints them. Hint-severity
    diagnostics are editor suggestions (a kprobe with a stable tracepoint):
    bpftrace says nothing of the kind, so neither does the terminal."""
    shown = [d for d in diagnostics if d.severity != Severity.HINT]
    return "".join(render(d, source) for d in sort_for_output(shown))
