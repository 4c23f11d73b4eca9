""""Did you mean" hints: the known names closest to a misspelt one.

Closeness is the edit distance (insertions, deletions, substitutions, and
swaps of two neighbouring letters, the commonest typo), bounded: a name more than a few edits away is not a suggestion, and the
bound lets the search over a long list (a kernel has two thousand
tracepoints) stop early for almost every candidate.
"""

from __future__ import annotations

from typing import Iterable

from ..diagnostics import Edit, Fix
from ..source import Span


def max_edits(word: str) -> int:
    """How far a suggestion may be: 1 edit for short names, up to 3."""
    return max(1, min(3, len(word) // 4))


def closest(word: str, candidates: Iterable[str], *, fold: bool = False, limit: int = 3) -> list[str]:
    """Up to `limit` candidates nearest to `word`, all at the best distance
    found (one clear answer reads better than several)."""
    key = word.lower() if fold else word
    bound = max_edits(key)
    best: dict[str, int] = {}
    for candidate in candidates:
        folded = candidate.lower() if fold else candidate
        if folded == key:
            continue
        distance = edit_distance(key, folded, bound)
        if distance <= bound and candidate not in best:
            best[candidate] = distance
    if not best:
        return []
    nearest = min(best.values())
    return sorted(c for c, d in best.items() if d == nearest)[:limit]


def did_you_mean(word: str, candidates: Iterable[str], *, fold: bool = False) -> tuple[str, ...]:
    """A hint line for a diagnostic, or nothing when no name is close."""
    return hint_for(closest(word, candidates, fold=fold))


def hint_for(names: list[str]) -> tuple[str, ...]:
    """The "did you mean" hint line naming `names` (nothing when empty)."""
    if not names:
        return ()
    return ("did you mean " + " or ".join(f"'{n}'" for n in names) + "?",)


def rename_fixes(names: list[str], span: Span) -> tuple[Fix, ...]:
    """One fix per name, each replacing `span` with it; preferred when it is
    the only one (several at the same distance are the user's choice)."""
    return tuple(Fix(f"Change to '{n}'", (Edit(span, n),), preferred=len(names) == 1) for n in names)


def suggestions(word: str, candidates: Iterable[str], span: Span, *, fold: bool = False) -> dict:
    """The hint and the fixes for a misspelt `word` written at `span`, as
    keyword arguments for a diagnostic: `hints=..., fixes=...`."""
    names = closest(word, candidates, fold=fold)
    return {"hints": hint_for(names), "fixes": rename_fixes(names, span)}


def edit_distance(a: str, b: str, bound: int) -> int:
    """Edit distance of a and b (optimal string alignment: a swap of two
    neighbours is one edit), or bound + 1 when it exceeds bound."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    # Shared prefixes and suffixes cost nothing; most names differ only in
    # a short middle part.
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if not a or not b:
        return max(len(a), len(b))
    # Only cells within `bound` of the diagonal can lead to a distance within
    # `bound`, so each row computes at most 2 * bound + 1 of them.
    big = bound + 1
    before: dict[int, int] = {}
    previous = {j: j for j in range(0, min(len(b), bound) + 1)}
    for i, char_a in enumerate(a, 1):
        low, high = max(0, i - bound), min(len(b), i + bound)
        current = {}
        for j in range(low, high + 1):
            if j == 0:
                current[0] = i
                continue
            cost = min(
                previous.get(j, big) + 1,
                current.get(j - 1, big) + 1,
                previous.get(j - 1, big) + (char_a != b[j - 1]),
            )
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == b[j - 1]:
                cost = min(cost, before.get(j - 2, big) + 1)
            current[j] = cost
        if min(current.values()) > bound:
            return big
        before, previous = previous, current
    return min(previous.get(len(b), big), big)
