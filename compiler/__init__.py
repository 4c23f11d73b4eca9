"""btls's compiler: the bpftrace frontend (syntax, semantics) and backend.

The frontend is importable without llvmlite, an editor library or a kernel:
`compiler.syntax.parse()` turns text into an AST and diagnostics.
"""

__version__ = "0.1.0"
