"""format_text() and format_edits(): the formatter's entry points.

A program is formatted only when it parses without errors; otherwise it is
left exactly as it is (an editor formats on save, and a half-typed line
must not be rearranged). The formatted text is then parsed again and kept
only if its AST has the same shape as the original's and its comments are
the same: a formatter bug gives an unformatted file, never a different
program.

The result is also available as edits: the formatter only ever rewrites
the blanks between tokens, so each gap whose blanks change is one edit,
and a range is formatted by keeping the edits inside it. Any subset of
these edits is safe to apply, because each one only changes the layout
between two tokens that stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..diagnostics import has_errors
from ..source import decode
from ..syntax import ParseResult, parse
from .layout import layout
from .lexer import tokenize
from .roles import assign_roles, opaque_pieces
from .shape import comment_texts, program_shape


@dataclass(frozen=True)
class Edit:
    """Replace the UTF-8 byte range [start, end) of the original with `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Formatted:
    text: str
    edits: list[Edit]  # one per changed gap, in order, not overlapping

    @property
    def changed(self) -> bool:
        return bool(self.edits)


class FormatError(Exception):
    """The formatter's output did not check out (a bug of ours)."""


def format_text(text: str) -> str:
    """The program in the canonical layout; unchanged when it has syntax
    errors (or when the result would not have been the same program)."""
    result = format_program(text)
    return result.text if result is not None else text


def format_program(
    text: str, parsed: Optional[ParseResult] = None, strict: bool = False
) -> Optional[Formatted]:
    """The formatted program and the edits that make it, or None when the
    program has syntax errors. `parsed` is parse(text) when the caller
    has it. A result that fails the check is None as well, or raises
    FormatError when `strict` (the tests)."""
    if parsed is None:
        parsed = parse(text)
    if has_errors(parsed.diagnostics):
        return None
    lark_text = parsed.source.lark_text
    tokens = tokenize(lark_text, opaque_pieces(parsed.program, lark_text))
    gaps = layout(lark_text, tokens, assign_roles(parsed.program, tokens))
    eol = _line_ending(lark_text)
    pieces: list[str] = []
    edits: list[Edit] = []
    previous_end = 0
    for tok, gap in zip(tokens, gaps):
        if gap is None:  # a dropped `;`: its text joins the next gap
            continue
        if eol != "\n":
            gap = gap.replace("\n", eol)
        pieces.append(gap)
        pieces.append(tok.text)
        _gap_edit(lark_text, previous_end, tok.start, gap, edits)
        previous_end = tok.end
    ending = eol if tokens else ""
    pieces.append(ending)
    _gap_edit(lark_text, previous_end, len(lark_text), ending, edits)
    formatted = decode("".join(pieces))
    problem = _check(parsed, formatted)
    if problem is not None:
        if strict:
            raise FormatError(problem)
        return None
    return Formatted(formatted, edits)


def format_edits(
    text: str, parsed: Optional[ParseResult] = None, start: int = 0, end: Optional[int] = None
) -> Optional[list[Edit]]:
    """The edits that format the byte range [start, end) of the program
    (the whole of it by default), merged so that a changed line is one edit;
    None when the program has syntax errors."""
    if parsed is None:
        parsed = parse(text)
    result = format_program(text, parsed)
    if result is None:
        return None
    if end is None:
        end = len(parsed.source.data)
    inside = [edit for edit in result.edits if start <= edit.start and edit.end <= end]
    return merge_edits(inside, parsed.source.lark_text)


def merge_edits(edits: list[Edit], lark_text: str) -> list[Edit]:
    """Join edits that share a line of the original into one edit, with the
    original text between them carried along."""
    merged: list[Edit] = []
    for edit in edits:
        if merged:
            last = merged[-1]
            between = lark_text[last.end : edit.start]
            if "\n" not in between:
                merged[-1] = Edit(last.start, edit.end, last.text + decode(between) + edit.text)
                continue
        merged.append(edit)
    return merged


def _line_ending(lark_text: str) -> str:
    """The document's line ending, as its first line has it."""
    newline = lark_text.find("\n")
    return "\r\n" if newline > 0 and lark_text[newline - 1] == "\r" else "\n"


def _gap_edit(lark_text: str, start: int, end: int, new: str, edits: list[Edit]) -> None:
    """The edit turning lark_text[start:end] into `new`, trimmed to what
    differs; nothing when they are equal."""
    old = lark_text[start:end]
    if old == new:
        return
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    edits.append(Edit(start + prefix, end - suffix, new[prefix : len(new) - suffix]))


def _check(original: ParseResult, formatted: str) -> Optional[str]:
    """Why the formatted text is not the same program, or None."""
    again = parse(formatted)
    if has_errors(again.diagnostics):
        return f"the formatted text does not parse: {again.diagnostics[0].message}"
    if program_shape(again.program) != program_shape(original.program):
        return "the formatted text has a different syntax tree"
    if comment_texts(again.program) != comment_texts(original.program):
        return "the formatted text has different comments"
    return None
