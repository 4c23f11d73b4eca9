"""The bpftrace frontend's syntax layer: grammar, AST and parse().

Importing this package is cheap: lark and the grammar load on the first
parse, and nothing here imports llvmlite or any editor library.
"""

from .parser import MAX_SOURCE_BYTES, ParseResult, parse

__all__ = ["MAX_SOURCE_BYTES", "ParseResult", "parse"]
