"""The semantic analyser: names, types, and the rules of bpftrace.

`analyse()` (analysis.py) takes a parsed program and kernel facts and
returns every node's type, every symbol's definitions and uses, and the
diagnostics. Like parse(), it never raises on any input.
"""
