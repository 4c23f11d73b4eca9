"""analyse(previous=...) after an edit gives exactly what analysing the new
text from scratch gives (semantic/reuse.py): the same diagnostics, the
same type for every node, the same symbols with the same types,
definitions and uses. And it does reuse: only the items the edit may have
changed are walked; the others' report is copied."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.semantic.analysis import analyse
from compiler.semantic.checker import Checker, Options
from compiler.semantic.reuse import plan
from compiler.syntax import ast, parse
from compiler.syntax.incremental import reparse
from fixtures.kernel import fixture_facts

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.bt"))
FACTS = fixture_facts()

# Statements that give shared maps and local variables types that differ,
# depend on each other, or only make sense after another probe's.
STATEMENTS = [
    "@a = 1;", "@a = (uint8)2;", "@a = (uint64)3;", '@s = "text";', "@b = @a;", "@a = @b + 1;",
    "@c[pid] = @a;", "@c[comm] = 1;", "@n[tid] = count();", "@n[tid]++;", "$v = @a; @d = $v;",
    "$v = 1; if ($v > @b) { $w = $v; }", "@a++;", "delete(@c, pid);", "print(@n);", "$x = @s;",
    "@d = (int16)-1;", "if (@b > 10) { @b++; }", "$t = (uint32)@d; @e[$t] = hist($t);", "@e[1] = hist(2);",
    "@g = f(@d);",
]  # fmt: skip
# A fn, which touches a map the probes share.
FN = "fn f($x: int64): int64 { @a = $x; return $x + 1; }\n"
PROVIDERS = ["BEGIN", "END", "tracepoint:syscalls:sys_enter_read", "interval:s:1"]


def signature(analysis) -> tuple:
    diagnostics = sorted(
        (d.severity.name, d.code, d.message, d.span.start, d.span.end,
         tuple((r.span.start, r.span.end, r.message) for r in d.related), tuple(d.hints), tuple(map(repr, d.fixes)))
        for d in analysis.diagnostics
    )  # fmt: skip
    types = sorted((type(n).__name__, n.span.start, n.span.end, str(t)) for n, t in analysis.types.items())
    references = sorted(
        (type(n).__name__, n.span.start, n.span.end, s.kind, s.name) for n, s in analysis.references.items()
    )
    symbols = sorted(
        (s.kind, s.name, str(s.type), str(getattr(s, "key", None)), getattr(s, "written", None),
         getattr(s, "read", None), str(getattr(s, "key_site", None)), str(getattr(s, "value_site", None)),
         str(getattr(s, "origin", None)), getattr(s, "assigned", None),
         tuple(sorted((d.start, d.end) for d in s.definitions)), tuple(sorted((u.start, u.end) for u in s.uses)))
        for s in analysis.symbols
    )  # fmt: skip
    return diagnostics, types, references, symbols


def probe(provider: str, statements: list[str]) -> str:
    return f"{provider} {{ {' '.join(statements)} }}\n"


def check_edits(text: str, edits) -> int:
    """Applies each edit (a function of the text) and compares; how many
    of the analyses reused the previous one."""
    previous = parse(text)
    previous_analysis = analyse(previous, FACTS, reusable=True)
    reused = 0
    for change in edits:
        text = change(text)
        parsed = reparse(previous, text)
        analysis = analyse(parsed, FACTS, previous=previous_analysis, reusable=True)
        assert signature(analysis) == signature(analyse(parse(text), FACTS)), text
        reused += analysis.reused
        previous, previous_analysis = parsed, analysis
    return reused


# Probes around a small program, so that the incremental parse reparses
# only a little of it (a region of over half the text is parsed whole).
PAD = "".join(f"interval:s:{n + 1} {{ @pad{n} = {n}; }}\n" for n in range(12))


def kept_items(previous, parsed) -> bool:
    old = {id(item) for item in previous.program.items}
    return any(id(item) in old for item in parsed.program.items)


bodies = st.lists(st.sampled_from(STATEMENTS), min_size=0, max_size=4)
programs = st.lists(st.tuples(st.sampled_from(PROVIDERS), bodies), min_size=2, max_size=7)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.lists(st.tuples(st.integers(0, 6), bodies), min_size=1, max_size=4))
def test_replacing_a_probe_body_analyses_as_from_scratch(program, replacements) -> None:
    """Maps whose types widen, narrow, go away or come from another probe."""
    probes = [probe(provider, body) for provider, body in program]

    def replace(index: int, body: list[str]):
        def change(text: str) -> str:
            index_now = index % len(probes)
            probes[index_now] = probe(program[index_now][0], body)
            return FN + PAD + "".join(probes) + PAD

        return change

    reused = check_edits(FN + PAD + "".join(probes) + PAD, [replace(index, body) for index, body in replacements])
    assert reused == len(replacements)  # each edit reused the analysis before it


SNIPPETS = ["{", "}", ";", "(", ")", "\n", "x", "@x = 1;", "@x = (uint8)1;", "@y = @x;", "$v = @x; @z = $v;",
            "@x++;", "delete(@x);", '@m["a"] = 1;', "$y = 5;", "// c\n", ""]  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(CORPUS),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 12), st.sampled_from(SNIPPETS)), min_size=1, max_size=4),
)
def test_random_edits_of_real_scripts_analyse_as_from_scratch(path: Path, edits) -> None:
    def change(where: float, length: int, insert: str):
        def apply(text: str) -> str:
            start = int(where * len(text))
            return text[:start] + insert + text[start + length :]

        return apply

    check_edits(path.read_text(), [change(*edit) for edit in edits])


def many_probes(edited: str = "@a[25] = count();") -> str:
    return "".join(
        f"tracepoint:syscalls:sys_enter_read /pid == {n}/ {{ {edited if n == 25 else f'@a[{n}] = count();'} "
        f"@own{n} = {n}; $v = @own{n}; }}\n"
        for n in range(50)
    ) + "END { @own25 = 7; }\n"  # fmt: skip


def test_an_edit_walks_only_the_probes_that_share_its_maps(monkeypatch) -> None:
    text = many_probes()
    previous = parse(text)
    previous_analysis = analyse(previous, FACTS, reusable=True)
    edited = many_probes("@a[25] = count(); @b = 1;")
    parsed = reparse(previous, edited)
    seeds = plan(previous_analysis.walk_record, parsed.program, parsed.source.data, FACTS, Options())
    # The edited probe touches @a, which every probe counts into: all of them.
    assert seeds is not None and len(seeds.first_walk) == 51

    text = many_probes("@a[25] = count();").replace("@a[", "@a_")  # no shared map now
    text = text.replace("_0] = count()", "0 = 1").replace("] = count()", " = 1")
    previous = parse(text)
    previous_analysis = analyse(previous, FACTS, reusable=True)
    edited = text.replace("@own25 = 25;", "@own25 = (uint8)25;")
    parsed = reparse(previous, edited)
    seeds = plan(previous_analysis.walk_record, parsed.program, parsed.source.data, FACTS, Options())
    first = [item.span.start for item in seeds.first_walk]
    edited_probe = next(i for i in parsed.program.items if b"(uint8)25" in parsed.source.data[i.span.start : i.span.end])
    end_probe = parsed.program.items[-1]
    # The edited probe, the probe after it (the incremental parse parses it
    # again, to see where the edit ends) and END, which sets @own25 too.
    following = parsed.program.items[parsed.program.items.index(edited_probe) + 1]
    assert sorted(first) == sorted([edited_probe.span.start, following.span.start, end_probe.span.start])
    walked = []
    monkeypatch.setattr(Checker, "walk_probe", lambda self, probe, walk=Checker.walk_probe: (
        walked.append(probe), walk(self, probe)))  # fmt: skip
    analysis = analyse(parsed, FACTS, previous=previous_analysis, reusable=True)
    # Those three, to their fixed point and in the report; the report of
    # the other 48 is copied from the previous analysis.
    assert {id(probe) for probe in walked} == {id(item) for item in seeds.first_walk} and len(walked) <= 9
    monkeypatch.undo()
    assert analysis.reused and signature(analysis) == signature(analyse(parse(edited), FACTS))


def test_a_narrowed_map_is_not_kept_at_its_old_type() -> None:
    text = PAD + "BEGIN { @x = (uint64)1; }\ntracepoint:syscalls:sys_enter_read { @x = 1; }\nEND { $y = @x; }\n" + PAD
    edited = text.replace("(uint64)1", "2")
    assert check_edits(text, [lambda _: edited]) == 1
    analysis = analyse(parse(edited), FACTS)
    assert not str(next(s for s in analysis.symbols if s.name == "@x").type).startswith("uint")


def test_maps_that_only_feed_each_other_lose_their_type_with_its_source() -> None:
    text = PAD + "BEGIN { @a = @b; }\nEND { @b = @a; }\ninterval:s:1 { @b = 1; }\n" + PAD
    assert check_edits(text, [lambda t: t.replace("@b = 1;", "")]) == 1


def test_nothing_is_reused_when_a_macro_or_the_config_changes() -> None:
    text = "config = { max_strlen = 64 }\n" + PAD + "macro f(x) { x + 1 }\nBEGIN { @a = f(1); }\nEND { @b = 2; }\n" + PAD
    for edited in (text.replace("64", "32"), text.replace("x + 1", "x + 2"), text.replace("@b = 2", "@b = f(2)")):
        previous = parse(text)
        previous_analysis = analyse(previous, FACTS, reusable=True)
        parsed = reparse(previous, edited)
        assert kept_items(previous, parsed)  # a real reparse
        analysis = analyse(parsed, FACTS, previous=previous_analysis, reusable=True)
        assert not analysis.reused
        assert signature(analysis) == signature(analyse(parse(edited), FACTS))


def test_a_copied_probe_keeps_the_struct_its_args_are() -> None:
    """A probe on two tracepoints types `args` as a struct of the fields
    both have; when its report is copied after an edit above it, that
    struct is still there (same name, defined in the new analysis)."""
    both = "tracepoint:syscalls:sys_enter_read,tracepoint:syscalls:sys_exit_read { @n[args.__syscall_nr] = count(); }\n"
    text = PAD + "BEGIN { @a = 1; }\n" + PAD + both + PAD
    previous = parse(text)
    previous_analysis = analyse(previous, FACTS, reusable=True)
    edited = text.replace("@a = 1;", "@a = 1; @b = 2;")
    parsed = reparse(previous, edited)
    analysis = analyse(parsed, FACTS, previous=previous_analysis, reusable=True)
    assert analysis.reused and signature(analysis) == signature(analyse(parse(edited), FACTS))
    field = next(n for n in analysis.types if isinstance(n, ast.FieldAccess) and n.field.text == "__syscall_nr")
    record = analysis.types[field.base] if field.base in analysis.types else None
    assert str(analysis.types[field]) == "int32"
    assert record is not None and analysis.context.record(record) is not None
