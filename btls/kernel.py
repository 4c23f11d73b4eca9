"""Kernel facts for the server, loaded on first use (never on the start
path): this machine's BTF and tracefs, none, or fixtures named by a
`module:function` setting (tests and editors without kernel access)."""

from __future__ import annotations

import gc
import importlib
import logging

log = logging.getLogger("btls")


def load_facts(setting: str):
    """The KernelFacts a `kernelFacts` setting names; NoFacts when it cannot
    be had (the analysis is then less precise, never wrong)."""
    from compiler.kernel.facts import NoFacts

    try:
        if setting == "none":
            return NoFacts()
        if setting == "live":
            from compiler.kernel.live import default_facts

            return default_facts()
        module_name, _, function_name = setting.partition(":")
        factory = getattr(importlib.import_module(module_name), function_name or "facts")
        return factory()
    except Exception as failure:  # noqa: BLE001 - a bad setting must not stop the server
        log.error("btls: kernel facts %r unavailable: %r", setting, failure)
        return NoFacts()


class FactsProvider:
    """Holds the facts for the current setting; built lazily, once."""

    def __init__(self, setting: str = "live") -> None:
        self.setting = setting
        self._facts = None

    def __call__(self):
        if self._facts is None:
            self._facts = load_facts(self.setting)
            # Everything the server keeps for good is loaded by now (the
            # grammar, the analyser, the facts): out of the garbage
            # collector's sight, a full collection no longer walks it all
            # again (with live facts, 15-30 ms that landed on a keystroke).
            gc.freeze()
        return self._facts

    def use(self, setting: str) -> bool:
        """Switch to another setting; True when that changes anything."""
        if setting == self.setting:
            return False
        self.setting = setting
        self._facts = None
        return True

    @property
    def loaded(self) -> bool:
        return self._facts is not None
