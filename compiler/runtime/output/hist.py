"""hist() and lhist() values: the rows of the text chart and the JSON
bucket list. A histogram value is a {bucket index: count} dict (decode.py
groups a hist map's entries that way).

Bucket indices:

* hist(x, k): index 0 holds negative values; indices 1 .. 2<<k hold the
  values 0 .. (2<<k)-1 one each; after that every power of two is split
  into 2**k buckets (k = 0 in 0.17, which had no second argument).
* lhist(x, min, max, step): index 0 holds values below min, index i in
  1 .. B (B = (max-min)/step) holds [min+(i-1)*step, min+i*step), and
  index B+1 holds values from max up.

Only the rows from the lowest to the highest non-empty bucket print. The
arithmetic copies 0.17's C types where they show: counts read as C ints
when finding the non-empty range, the bar length computed in float.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from .style import Style
from .values import c_divide

BAR_WIDTH = 52
_FLOAT = struct.Struct("<f")


def _c_int(value: int) -> int:
    """A uint64 count converted to a C int (32-bit), as 0.17 does."""
    return ((value + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _float32(value: float) -> float:
    return _FLOAT.unpack(_FLOAT.pack(value))[0]


def _bar(count: int, max_count: int) -> str:
    # count / (float)max_count * 52, truncated: single precision throughout.
    ratio = _float32(_float32(float(count)) / _float32(float(max_count)))
    return "@" * int(_float32(ratio * BAR_WIDTH))


def _row(label: str, shown_count: int, bar: str) -> str:
    return f"{label:<16}{shown_count:>8} |{bar:<{BAR_WIDTH}}|\n"


def _nonempty_range(counts: dict[int, int]) -> tuple[int, int, int]:
    """The lowest and highest index whose count is positive as a C int,
    and the largest such count; (-1, -1, 0) when there is none."""
    low = high = -1
    largest = 0
    for index in sorted(counts):
        as_int = _c_int(counts[index])
        if as_int > 0:
            if low == -1:
                low = index
            high = index
        largest = max(largest, as_int)
    return low, high, largest


# ---------------------------------------------------------------- hist


class _Bound(NamedTuple):
    value: int
    text: str


def _hist_upper_bound(index: int, bits: int, style: Style) -> _Bound:
    """The first value above bucket `index` (for index >= 0)."""
    if index <= (2 << bits):
        return _Bound(index, str(index))
    buckets_per_power = 1 << bits
    part = index & (buckets_per_power - 1)
    power = (index >> bits) - 1
    value = (1 << power) * (buckets_per_power + part)
    decade = min(power // 10, len(style.hist_suffixes))
    suffix = style.hist_suffixes[decade - 1] if decade else ""
    return _Bound(value, f"{(1 << (power - 10 * decade)) * (buckets_per_power + part)}{suffix}")


def hist_label(index: int, bits: int, style: Style) -> str:
    if index == 0:
        return "(..., 0)"
    low = _hist_upper_bound(index - 1, bits, style)
    high = _hist_upper_bound(index, bits, style)
    if high.value - low.value == 1:
        return f"[{low.text}]"
    return f"[{low.text}, {high.text})"


def hist_text(counts: dict[int, int], bits: int, div: int, style: Style) -> str:
    """The rows of a hist() chart (each ending in a newline), or ""."""
    low, high, largest = _nonempty_range(counts)
    if low == -1:
        return ""
    rows = []
    for index in range(low, high + 1):
        count = counts.get(index, 0)
        rows.append(_row(hist_label(index, bits, style), count // div, _bar(count, largest)))
    return "".join(rows)


def hist_json(counts: dict[int, int], bits: int, div: int, style: Style) -> str:
    low, high, _ = _nonempty_range(counts)
    if low == -1:
        return "[]"
    buckets = []
    for index in range(low, high + 1):
        count = counts.get(index, 0) // div
        if index == 0:
            buckets.append(f'{{"max": -1, "count": {count}}}')
            continue
        if style.json_hist_int32_bounds and bits == 0 and index > 2:
            # 0.17: `1 << n` in C int, the shift count masked as x86 does.
            minimum = _c_int(1 << ((index - 2) & 31))
            maximum = _c_int((1 << ((index - 1) & 31)) - 1)
        else:
            minimum = _hist_upper_bound(index - 1, bits, style).value
            maximum = _hist_upper_bound(index, bits, style).value - 1
        buckets.append(f'{{"min": {minimum}, "max": {maximum}, "count": {count}}}')
    return "[" + style.json_hist_bucket_separator.join(buckets) + "]"


# --------------------------------------------------------------- lhist


def _lhist_number(number: int, step: int, style: Style) -> str:
    if style.lhist_suffix_needs_step_multiple and step % 1024 != 0:
        return str(number)
    if number == 0:
        return "0"
    if number % (1 << 20) == 0:
        return f"{c_divide(number, 1 << 20)}M"
    if number % (1 << 10) == 0:
        return f"{c_divide(number, 1 << 10)}K"
    return str(number)


def _lhist_last_bucket(minimum: int, maximum: int, step: int) -> int:
    return c_divide(maximum - minimum, step) + 1


def lhist_label(index: int, minimum: int, maximum: int, step: int, style: Style) -> str:
    if index == 0:
        return f"(..., {_lhist_number(minimum, step, style)})"
    if index == _lhist_last_bucket(minimum, maximum, step):
        return f"[{_lhist_number(maximum, step, style)}, ...)"
    low = (index - 1) * step + minimum
    return f"[{_lhist_number(low, step, style)}, {_lhist_number(low + step, step, style)})"


def _lhist_range(counts: dict[int, int], last: int) -> tuple[int, int, int]:
    """0.17's lhist range: nothing when no count is non-zero (as a C int);
    else the first and last buckets (up to the overflow one) above zero."""
    if not any(_c_int(c) != 0 for c in counts.values()):
        return -1, -1, 0
    largest = max(0, *(_c_int(c) for c in counts.values()))
    nonempty = [i for i in sorted(counts) if 0 <= i <= last and counts[i] > 0]
    if not nonempty:
        return 0, 0, largest
    return nonempty[0], nonempty[-1], largest


def lhist_text(counts: dict[int, int], minimum: int, maximum: int, step: int, style: Style) -> str:
    """The rows of an lhist() chart, or "". print()'s div does not apply."""
    last = _lhist_last_bucket(minimum, maximum, step)
    low, high, largest = _lhist_range(counts, last)
    if low == -1:
        return ""
    rows = []
    for index in range(low, high + 1):
        count = counts.get(index, 0)
        label = lhist_label(index, minimum, maximum, step, style)
        rows.append(_row(label, count, _bar(count, largest) if largest else ""))
    return "".join(rows)


def lhist_json(counts: dict[int, int], minimum: int, maximum: int, step: int, style: Style) -> str:
    last = _lhist_last_bucket(minimum, maximum, step)
    low, high, _ = _lhist_range(counts, last)
    if low == -1:
        return "[]"
    buckets = []
    for index in range(low, high + 1):
        count = counts.get(index, 0)
        if index == 0:
            buckets.append(f'{{"max": {minimum - 1}, "count": {count}}}')
        elif index == last:
            buckets.append(f'{{"min": {maximum}, "count": {count}}}')
        else:
            low_value = (index - 1) * step + minimum
            buckets.append(
                f'{{"min": {low_value}, "max": {low_value + step - 1}, "count": {count}}}'
            )
    return "[" + style.json_hist_bucket_separator.join(buckets) + "]"
