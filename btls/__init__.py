"""btls: the bpftrace language server, on pygls and the shared frontend.

This package is the only place that knows both the compiler's types and the
Language Server Protocol's; the compiler never imports pygls or lsprotocol.
"""

__version__ = "0.1.0"
