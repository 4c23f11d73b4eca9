"""reparse(): parse an edited document again, reusing the top-level items
the edit did not touch.

An editor sends a change per keystroke, and a full parse of a 1000-line
script takes about 100 ms. Most edits stay inside one probe, so only a
*region* is parsed again: from the start of the line after the last
untouched item before the edit, through the first untouched item after it.
The items before the region are kept as they are; the items after it are
kept with their spans moved by the edit's length.

The result must equal what `parse()` gives for the new text (the AST and
the diagnostics; tests/test_incremental_parse.py checks this on random
edits). Top-level items are independent in the grammar (`start: _item*`),
so the parser is in the same state at the start of every item. The region
ends with an item that was untouched, parsed again: when that item comes
out identical and error-free, and the parser is no longer in its quiet
period after an error, whatever went wrong inside the region cannot reach
the items after it. Whenever one of these conditions fails, or the edit is
not local enough to be worth it, this falls back to a full parse.
"""

from __future__ import annotations

from typing import Optional

from ..diagnostics import DiagnosticSink
from ..source import MAX_SOURCE_BYTES, SourceText, Span
from . import ast
from .grammar import load_grammar
from .parser import MAX_SYNTAX_ERRORS, QUIET_AFTER_ERROR, ParseResult, _Session, parse
from .to_ast import check_item_order

# Diagnostics about the order of items are recomputed over the whole program.
_ORDER_CODES = ("item-order", "duplicate-config")
# A region larger than this share of the text is parsed whole anyway.
_MAX_REGION_SHARE = 0.5


def reparse(previous: Optional[ParseResult], text: str, name: str = "stdin") -> ParseResult:
    """Parse `text`, which is `previous`'s text after an edit."""
    if previous is None or getattr(previous, "consumed", False):
        return parse(text, name)
    source = SourceText(text, name)
    try:
        result = _Reuse(previous, source).run()
    except RecursionError:
        result = None
    if result is not None:
        # Its later items now belong to the new result, with moved spans:
        # it must never be the base of another reparse.
        previous.consumed = True
    return result if result is not None else parse(text, name)


class _Reuse:
    def __init__(self, previous: ParseResult, source: SourceText) -> None:
        self.old = previous
        self.new = source
        self.old_data = previous.source.data
        self.data = source.data

    def run(self) -> Optional[ParseResult]:
        old, new = self.old_data, self.data
        if old == new:
            return self._unchanged()
        if len(new) > MAX_SOURCE_BYTES or len(old) > MAX_SOURCE_BYTES:
            return None
        if any(d.code in ("too-large", "nesting") for d in self.old.diagnostics):
            return None
        if sum(d.code == "syntax" for d in self.old.diagnostics) >= MAX_SYNTAX_ERRORS // 2:
            return None
        prefix, suffix = _common_ends(old, new)
        delta = len(new) - len(old)
        items = sorted(self.old.program.items, key=lambda item: item.span.start)
        start_index, region_start = self._region_start(items, prefix)
        # The first untouched item after the edit; it is parsed again as the
        # region's last item to prove that the region ends cleanly.
        end_index = next(
            (i for i in range(start_index, len(items)) if items[i].span.start > len(old) - suffix),
            None,
        )
        if end_index is None or not self._clean(items[end_index]):
            return None
        anchor = items[end_index]
        region_end = anchor.span.end + delta
        if region_end - region_start > _MAX_REGION_SHARE * len(new) + 2048:
            return None
        region = self._parse_region(region_start, region_end)
        if region is None:
            return None
        region_items, region_diagnostics, region_comments = region
        if not region_items or not _same_item(region_items[-1], anchor, delta):
            return None
        if any(d.span.end > anchor.span.start + delta for d in region_diagnostics):
            return None
        return self._assemble(items, start_index, end_index, region, delta)

    # -------------------------------------------------------------- pieces

    def _unchanged(self) -> ParseResult:
        return ParseResult(self.old.program, list(self.old.diagnostics), self.new)

    def _region_start(self, items, prefix: int) -> tuple[int, int]:
        """(index of the first item parsed again, byte offset where the
        region starts): a line start after an untouched, error-free item,
        with only blanks between; else the start of the text."""
        kept = [i for i, item in enumerate(items) if item.span.end < prefix]
        for index in reversed(kept[-3:]):
            item = items[index]
            if not self._clean(item) or not self._closed(item):
                continue
            line_end = self.old_data.find(b"\n", item.span.end)
            if line_end < 0 or line_end + 1 > prefix:
                continue
            if self.old_data[item.span.end : line_end].strip():
                continue  # a comment or more code after it on its line
            return index + 1, line_end + 1
        return 0, 0

    def _closed(self, item: ast.Node) -> bool:
        """Whether the item ends with its own `}`. A probe whose `}` is
        missing ends where the next column-1 line begins, so its extent
        depends on the text after it. (Requiring a block item also keeps
        one-token items out: after an error the parser stays quiet for a
        token or two, and a C line is one token.)"""
        kinds = (ast.Probe, ast.Macro, ast.Function, ast.Config)
        return isinstance(item, kinds) and self.old_data[item.span.end - 1 : item.span.end] == b"}"

    def _clean(self, item: ast.Node) -> bool:
        if isinstance(item, ast.Probe) and any(point.is_error for point in item.attach_points):
            return False
        span = item.span
        return not any(
            d.span.start < span.end and d.span.end > span.start and d.code not in _ORDER_CODES
            for d in self.old.diagnostics
        )

    def _parse_region(self, start: int, end: int):
        text = self.data[start:end].decode("utf-8", errors="surrogatepass")
        source = SourceText(text, self.new.name)
        sink = DiagnosticSink()
        session = _Session(load_grammar(), source, sink)
        program = session.run()
        if session.skipping or session.accepted_since_error < QUIET_AFTER_ERROR:
            return None
        if program.shebang is not None and start > 0:
            return None
        self.region_shebang = program.shebang
        items = [_shifted(item, start) for item in program.items]
        diagnostics = [d.shifted(start) for d in sink.items if d.code not in _ORDER_CODES]
        comments = [_shifted(comment, start) for comment in program.comments]
        return items, diagnostics, comments

    def _assemble(self, items, start_index, end_index, region, delta) -> ParseResult:
        region_items, region_diagnostics, region_comments = region
        anchor_end = items[end_index].span.end  # old coordinates
        kept_before = items[:start_index]
        boundary = kept_before[-1].span.end if kept_before else 0
        kept_after = [_shifted(item, delta) for item in items[end_index + 1 :]]
        program = self.old.program
        comments = (
            [c for c in program.comments if c.span.end <= boundary]
            + region_comments
            + [_shifted(c, delta) for c in program.comments if c.span.start >= anchor_end]
        )
        diagnostics = (
            [d for d in self.old.diagnostics if d.span.end <= boundary and d.code not in _ORDER_CODES]
            + region_diagnostics
            + [
                d.shifted(delta)
                for d in self.old.diagnostics
                if d.span.start >= anchor_end and d.code not in _ORDER_CODES
            ]
        )
        all_items = kept_before + region_items + kept_after
        shebang = program.shebang if start_index > 0 else self.region_shebang
        sink = DiagnosticSink(diagnostics)
        check_item_order(all_items, sink)
        new_program = ast.Program(Span(0, len(self.data)), all_items, shebang, comments)
        return ParseResult(new_program, sink.items, self.new)


# ------------------------------------------------------------------ helpers


def _common_ends(old: bytes, new: bytes) -> tuple[int, int]:
    """Lengths of the common prefix and of the common suffix (not
    overlapping the prefix in either text)."""
    limit = min(len(old), len(new))
    prefix = 0
    step = 4096
    while prefix < limit:  # compare in chunks first: long texts, small edits
        chunk = min(step, limit - prefix)
        if old[prefix : prefix + chunk] == new[prefix : prefix + chunk]:
            prefix += chunk
            continue
        while old[prefix] == new[prefix]:
            prefix += 1
        break
    suffix = 0
    limit -= prefix
    while suffix < limit:
        chunk = min(step, limit - suffix)
        if old[len(old) - suffix - chunk : len(old) - suffix] == new[len(new) - suffix - chunk : len(new) - suffix]:
            suffix += chunk
            continue
        while old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
            suffix += 1
        break
    return prefix, suffix


def _shifted(node: ast.Node, delta: int) -> ast.Node:
    """`node` with every span in its subtree moved by `delta`, in place
    (kept items belong to the new parse from now on)."""
    if delta:
        for inner in ast.walk(node):
            inner.span = Span(inner.span.start + delta, inner.span.end + delta)
    return node


def _same_item(new_item: ast.Node, old_item: ast.Node, delta: int) -> bool:
    return (
        type(new_item) is type(old_item)
        and new_item.span.start == old_item.span.start + delta
        and new_item.span.end == old_item.span.end + delta
    )
