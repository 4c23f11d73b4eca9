"""The bpftrace formatter: one canonical layout (layout.py says which),
every comment kept, the same program before and after.

    format_text(text) -> str                 the formatted program
    format_program(text) -> Formatted|None   the text and the edits that make it
    format_edits(text, start=, end=)         the edits inside a byte range

Pure frontend: no I/O, no editor types. `btc --fmt` (compiler/cli_fmt.py)
and the language server (btls/formatting.py) are the callers.
"""

from .formatter import (
    Edit, FormatError, Formatted, format_edits, format_program, format_text, merge_edits,
)  # fmt: skip

__all__ = [
    "Edit", "FormatError", "Formatted",
    "format_edits", "format_program", "format_text", "merge_edits",
]  # fmt: skip
