"""Facts about the running kernel and binaries: BTF types, tracepoint
formats, probe lists, ELF symbols and USDT notes.

The analyser sees them only through the `KernelFacts` interface (facts.py),
so tests can swap in fixtures and an analysis without kernel access still
runs (with less precise types). This package is the only part of the
frontend's world that reads system files; it never loads BPF.
"""
