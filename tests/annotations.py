"""Expected diagnostics written inside .bt case files, and a checker.

A case file is a bpftrace program whose expected diagnostics are comments
under the offending line (the comments are layout, so the program is
unchanged):

    BEGIN { $x = 1 $y = 2; }
    //            | error: expected ';'
    BEGIN { foo( }
    //           ^ error: unexpected '}', expected ')' or expression

* A run of `^` marks the columns of the previous code line that the span
  covers; `|` marks a zero-width span at that column.
* `//@ L:C-L:C severity: message` gives a span explicitly (1-based, end
  exclusive), for spans over several lines or in the first columns.
* severity is `error`, `warning` or `hint`; the message must match exactly.
* `// HINT: text` on the line after an annotation adds a hint to it; a
  diagnostic's hints must match exactly too.

A file with no annotations must produce no diagnostics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler.source import SourceText

_CARET = re.compile(r"^(?P<lead>\s*//)(?P<pad>\s*)(?P<mark>\^+|\|)\s+(?P<sev>error|warning|hint): (?P<msg>.*)$")
_HINT = re.compile(r"^\s*// HINT: (?P<text>.*)$")
_EXPLICIT = re.compile(
    r"^\s*//@\s*(?P<l1>\d+):(?P<c1>\d+)-(?P<l2>\d+):(?P<c2>\d+)\s+(?P<sev>error|warning|hint): (?P<msg>.*)$"
)


@dataclass(frozen=True, order=True)
class Expected:
    start: tuple[int, int]  # 1-based line, 1-based byte column
    end: tuple[int, int]
    severity: str
    message: str
    hints: tuple[str, ...] = ()

    def __str__(self) -> str:
        hints = "".join(f" [HINT: {h}]" for h in self.hints)
        return f"{self.start[0]}:{self.start[1]}-{self.end[0]}:{self.end[1]} {self.severity}: {self.message}{hints}"


def expected_diagnostics(text: str) -> list[Expected]:
    found = []
    code_line = None  # 1-based number of the last line that is not an annotation
    for number, line in enumerate(text.split("\n"), start=1):
        caret = _CARET.match(line)
        explicit = _EXPLICIT.match(line)
        hint = _HINT.match(line)
        if hint and found:
            last = found[-1]
            found[-1] = Expected(last.start, last.end, last.severity, last.message, last.hints + (hint["text"],))
        elif explicit:
            found.append(
                Expected(
                    (int(explicit["l1"]), int(explicit["c1"])),
                    (int(explicit["l2"]), int(explicit["c2"])),
                    explicit["sev"],
                    explicit["msg"].rstrip(),
                )
            )
        elif caret and code_line is not None:
            column = len(line[: caret.start("mark")].encode()) + 1
            width = 0 if caret["mark"] == "|" else len(caret["mark"])
            found.append(
                Expected((code_line, column), (code_line, column + width), caret["sev"], caret["msg"].rstrip())
            )
        else:
            code_line = number
    return sorted(found)


def actual_diagnostics(diagnostics, source: SourceText) -> list[Expected]:
    out = []
    for d in diagnostics:
        out.append(
            Expected(
                source.lines.line_col(d.span.start),
                source.lines.line_col(d.span.end),
                d.severity.name.lower(),
                d.message,
                tuple(d.hints),
            )
        )
    return sorted(out)
