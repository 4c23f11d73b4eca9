""""Did you mean" hints: the known names closest to a misspelt one."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    return difflib.get_close_matches(name, sorted(set(candidates)), n=limit, cutoff=0.7)


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """A hint line for a diagnostic, or nothing when no name is close."""
    matches = closest(name, candidates)
    if not matches:
        return ()
    if len(matches) == 1:
        return (f"did you mean '{matches[0]}'?",)
    return ("did you mean one of: " + ", ".join(f"'{m}'" for m in matches) + "?",)
