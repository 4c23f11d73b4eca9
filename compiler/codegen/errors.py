"""Errors of the code generator."""

from __future__ import annotations


class CodegenError(Exception):
    """The program cannot be turned into a BPF object (too much stack, an
    unknown helper, a map the kernel would refuse). The message is one
    sentence meant for the user; the CLI prints it as `ERROR: <message>`."""


class Unsupported(CodegenError):
    """A construct the backend does not lower yet (the language has it; we
    have not built it). Tests tell these apart from real failures."""


class MissingProbe(CodegenError):
    """What a probe attaches to does not exist on this machine (a binary,
    a tracepoint a wildcard was meant to match)."""
