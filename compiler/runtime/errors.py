"""Errors of the runtime: loading, attaching and reading a BPF program."""

from __future__ import annotations


class RuntimeFailure(Exception):
    """Something the user has to act on (missing libbpf, no privileges, a
    probe the kernel refused). The message is one paragraph, written for
    the user; the CLI prints it as `ERROR: <message>` without a traceback."""


class ProbeRejected(RuntimeFailure):
    """The kernel refused one probe's program when it was loaded. Carries
    that probe (its ProbeInfo, for the source line) and the verifier's log,
    which `verbose` output may show in full."""

    def __init__(
        self, message: str, probe, verifier_log: str = "", reason: str = "",
        instruction: "int | None" = None, source_line: "int | None" = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.probe = probe
        self.verifier_log = verifier_log
        self.reason = reason  # the verifier's own words, e.g. "R0 invalid mem access 'scalar'"
        # The index of the instruction the verifier refused (in the program
        # as loaded), and the source line the log gives it (lineinfo.py).
        self.instruction = instruction
        self.source_line = source_line
