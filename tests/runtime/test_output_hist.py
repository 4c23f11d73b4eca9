"""hist() and lhist() charts, and print(@m, top, div), against bpftrace
0.17's own output; plus the label and bucket arithmetic on its own."""

from __future__ import annotations

import pytest
from test_output_support import (
    aggregation, assert_golden, hist_map, hist_of, keyed, keys, lhist_map, lhist_of, resolver, run,
    scalar,
)  # fmt: skip

from compiler.runtime.decode import Stats
from compiler.runtime.output import BPFTRACE_0_17, TextOutput
from compiler.runtime.output.hist import hist_label, hist_text, lhist_label
from compiler.semantic import types as T

STR = T.String(64)


@pytest.fixture
def out(tmp_path) -> TextOutput:
    return TextOutput(resolver=resolver(tmp_path))


def test_hist_rows_from_negative_to_mega(out) -> None:
    maps = [
        hist_map("@h", [(None, hist_of(-1, 0, 1, 2, 3, 4, 1000, 1000, 1048576))]),
        hist_map("@k", [(b"a", hist_of(3)), (b"b", hist_of(8, 9)), (b"c", hist_of(-100, -1, 0))], STR),
        hist_map("@one", [(None, hist_of(7))]),
    ]
    assert_golden("hist", run(out, maps))


def test_hist_of_huge_values(out) -> None:
    huge = hist_of(1 << 29, 1 << 30, 1 << 31, 1 << 40, 2**63 - 1)
    maps = [hist_map("@big", [(None, huge)]), hist_map("@mid", [(None, hist_of(1 << 20, 1 << 30))])]
    assert_golden("hist_big", run(out, maps))


def test_bar_lengths_round_as_0_17s_floats(out) -> None:
    squares = [i * i % 17 for i in range(100)]
    cubes = [i * i * i % 1000 for i in range(100)]
    maps = [
        hist_map("@h", [(None, hist_of(*cubes))]),
        lhist_map("@l", 0, 17, 1, [(None, lhist_of(0, 17, 1, *squares))]),
    ]
    assert_golden("hist_bars", run(out, maps))


def test_lhist_underflow_overflow_and_suffixes(out) -> None:
    maps = [
        lhist_map("@l", 0, 100, 10, [(None, lhist_of(0, 100, 10, 0, 15, 15, 55, 150, -1))]),
        lhist_map("@k", 0, 2048, 128, [(None, lhist_of(0, 2048, 128, 1000, 900))]),
        lhist_map("@m", 0, 10000, 1000, [(None, lhist_of(0, 10000, 1000, 3000, 20000))]),
        lhist_map("@n", 0, 3 << 20, 1 << 20, [(None, lhist_of(0, 3 << 20, 1 << 20, 1 << 20, 2 << 20, -1))]),
        lhist_map("@o", 0, 105, 10, [(None, lhist_of(0, 105, 10, 103))]),
        lhist_map("@p", 20, 60, 10, [(None, lhist_of(20, 60, 10, 25, 65))]),
        lhist_map("@q", 0, 10, 1, [(b"x", lhist_of(0, 10, 1, 5)), (b"y", lhist_of(0, 10, 1, 1, 9))], STR),
        lhist_map("@u", 0, 10, 1, [(None, lhist_of(0, 10, 1, -5))]),
        lhist_map("@v", 0, 10, 1, [(None, lhist_of(0, 10, 1, 50))]),
    ]
    assert_golden("lhist", run(out, maps))


def test_print_with_top_and_div(out) -> None:
    def agg(name, kind, entries):
        return keyed(name, T.INT64, aggregation(kind, signed=kind != "count")), entries

    x = (keyed("@x", T.INT64, T.INT64), [(1, 2), (2, 3), (3, 1)])
    y = (scalar("@y", T.INT64), [(None, 7)])
    neg = (keyed("@neg", T.INT64, T.INT64), [(1, -7), (2, 5)])
    av = agg("@av", "avg", [(1, Stats(1, 10)), (2, Stats(1, 20)), (3, Stats(1, 30)), (4, Stats(1, -31))])
    st = agg("@st", "stats", [(1, Stats(1, 10)), (2, Stats(1, 20)), (3, Stats(1, 30))])
    h = hist_map("@h", [(1, hist_of(10)), (2, hist_of(10, 100)), (3, hist_of(1, 1, 1))], T.INT64)
    lh = lhist_map("@l", 0, 10, 1, [(1, lhist_of(0, 10, 1, 5, 5)), (2, lhist_of(0, 10, 1, 3))], T.INT64)
    c = agg("@c", "count", [(1, 1), (2, 2)])
    s = (keyed("@s", STR, STR), [(b"a", b"x"), (b"b", b"y")])
    calls = [
        (x, 0, 0), (x, 2, 0), (x, 2, 2), (y, 0, 3), (neg, 0, 2), (av, 2, 0), (av, 0, 3), (st, 1, 0),
        (st, 0, 3), (h, 2, 0), (h, 0, 2), (lh, 1, 2), (c, 1, 2), (s, 1, 0), (s, 5, 0), (y, 0, 0),
    ]  # fmt: skip
    before = "".join(out.map(info, entries, top, div) for (info, entries), top, div in calls)
    cleared = [(info, []) for info, _ in (x, y, av, st, h, lh, c)]
    assert_golden("print_maps", run(out, [*cleared, neg, s], before))


def test_ties_keep_the_order_of_the_keys_bytes(out) -> None:
    def stats_map(name, kind, key, entries):
        return keyed(name, key, aggregation(kind)), entries

    one = Stats(1, 1)
    maps = [
        hist_map("@h", [(k, hist_of(5)) for k in (1, 256, 2, -1)], T.INT64),
        stats_map("@a", "avg", STR, [(b"b", one), (b"a", one), (b"c", one)]),
        stats_map("@s", "stats", keys(T.INT64, STR),
                  [((2, b"x"), one), ((1, b"y"), one), ((1, b"x"), one), ((513, b"a"), one)]),
        lhist_map("@l", 0, 10, 1, [(b"bb", lhist_of(0, 10, 1, 1)), (b"b", lhist_of(0, 10, 1, 1)),
                                   (b"a", lhist_of(0, 10, 1, 2))], STR),
    ]  # fmt: skip
    assert_golden("tie_order", run(out, maps))


# ------------------------------------------------------------ arithmetic


@pytest.mark.parametrize(
    ("index", "label"),
    [(0, "(..., 0)"), (1, "[0]"), (2, "[1]"), (3, "[2, 4)"), (11, "[512, 1K)"), (12, "[1K, 2K)"),
     (22, "[1M, 2M)"), (33, "[2G, 4G)"), (42, "[1T, 2T)"), (52, "[1024T, 2048T)")],
)  # fmt: skip
def test_hist_labels_0_17(index, label) -> None:
    assert hist_label(index, 0, BPFTRACE_0_17) == label


@pytest.mark.parametrize(
    ("index", "label"),
    # hist(x, 2): 0..7 one value each, then four buckets per power of two.
    [(1, "[0]"), (8, "[7]"), (9, "[8, 10)"), (12, "[14, 16)"), (13, "[16, 20)"), (37, "[1024, 1280)"),
     (45, "[4K, 5K)")],
)
def test_hist_labels_with_bits(index, label) -> None:
    assert hist_label(index, 2, BPFTRACE_0_17) == label


def test_lhist_labels() -> None:
    assert lhist_label(0, 0, 100, 10, BPFTRACE_0_17) == "(..., 0)"
    assert lhist_label(1, 0, 100, 10, BPFTRACE_0_17) == "[0, 10)"
    assert lhist_label(11, 0, 100, 10, BPFTRACE_0_17) == "[100, ...)"
    assert lhist_label(8, 0, 2048, 128, BPFTRACE_0_17) == "[896, 1K)"


def test_hist_div_shrinks_counts_but_not_bars() -> None:
    rows = hist_text({3: 4, 4: 2}, 0, 2, BPFTRACE_0_17).splitlines()
    assert rows[0] == "[2, 4)" + " " * 10 + "       2 |" + "@" * 52 + "|"
    assert rows[1].startswith("[4, 8)                 1 |" + "@" * 26 + " ")


def test_empty_histogram_prints_nothing() -> None:
    assert hist_text({}, 0, 1, BPFTRACE_0_17) == ""
    assert hist_text({3: 0}, 0, 1, BPFTRACE_0_17) == ""
