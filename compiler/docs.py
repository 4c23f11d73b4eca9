"""The builtins reference page, made from the builtins table.

    python -m compiler.docs > docs/builtins.md

`render_reference()` returns the page as markdown: an index, then a section
per builtin with its call forms (`Signature.label`), fixed return types,
parameters, the probes it is limited to, flags, the version that added it
and its docs. tests/test_builtins_table.py fails when docs/builtins.md is
stale.
"""

from __future__ import annotations

import sys

from .semantic import types as T
from .semantic.builtins import all_builtins, schema
from .semantic.builtins.schema import Builtin, Param, Signature

REGENERATE = "python -m compiler.docs > docs/builtins.md"

FLAG_TEXT = {
    schema.AGGREGATION: "aggregation: its value may only be assigned to a map",
    schema.ASYNC: "async: done in user space when the event is handled",
    schema.COMPILE_TIME: "compile time: evaluated by the compiler",
    schema.DEPRECATED: "deprecated",
    schema.MAP_FIRST: "the first argument is a map, named without a key",
    schema.STATEMENT: "statement: returns nothing",
    schema.UNSAFE: "unsafe: needs `--unsafe`",
    schema.UNSTABLE: "unstable: behind an `unstable_*` config option",
}

KINDS = (("variable", "Variables"), ("function", "Functions"))


def render_reference() -> str:
    entries = all_builtins()
    out = [
        "# Builtin variables and functions",
        "",
        "<!-- Generated from compiler/semantic/builtins by `python -m compiler.docs`; "
        "do not edit. -->",
        "",
        "Every builtin variable can also be called like a function (`pid()`), and",
        "some take arguments (`nsecs(monotonic)`). A version such as *since 0.24*",
        "says which bpftrace release added the builtin; versions after 0.26.1 are",
        "not yet released.",
        "",
    ]
    for kind, title in KINDS:
        names = [e.name for e in entries if e.kind == kind]
        out.append(f"**{title}:** " + ", ".join(f"[`{n}`](#{_anchor(n)})" for n in names))
        out.append("")
    for kind, title in KINDS:
        out += [f"## {title}", ""]
        for entry in entries:
            if entry.kind == kind:
                out += _section(entry)
    return "\n".join(out).rstrip("\n") + "\n"


def _anchor(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum() or c in "-_")


def _section(entry: Builtin) -> list[str]:
    out = [f"### {entry.name}", ""]
    for sig in entry.signatures:
        form = f"`{_form(entry, sig)}`"
        if isinstance(sig.returns, T.Type) and not T.is_unknown(sig.returns):
            form += f" → `{sig.returns}`"
        out.append(f"- {form}")
    out.append("")
    params = _params(entry)
    if params:
        out += ["Parameters:", ""] + params + [""]
    facts = []
    if entry.aliases:
        facts.append("Also spelled " + ", ".join(f"`{a}`" for a in entry.aliases) + ".")
    if entry.providers is not None:
        probes = ", ".join(sorted(entry.providers))
        hint = f" ({entry.provider_hint})" if entry.provider_hint else ""
        facts.append(f"Probes: {probes}{hint}.")
    if entry.flags:
        facts.append("Flags: " + "; ".join(FLAG_TEXT.get(f, f) for f in sorted(entry.flags)) + ".")
    if entry.since:
        facts.append(f"Since {entry.since}.")
    if facts:
        out += [" ".join(facts), ""]
    out += [entry.doc.strip(), ""]
    return out


def _form(entry: Builtin, sig: Signature) -> str:
    if entry.kind == "variable" and not sig.params and sig.variadic is None:
        return entry.name
    return sig.label(entry.name)


def _params(entry: Builtin) -> list[str]:
    seen: dict[str, Param] = {}
    for sig in entry.signatures:
        for param in (*sig.params, *([sig.variadic] if sig.variadic else [])):
            if param.name not in seen or (param.doc and not seen[param.name].doc):
                seen[param.name] = param
    lines = []
    for param in seen.values():
        notes = [param.doc] if param.doc else []
        if param.choices:
            notes.append("one of " + ", ".join(f"`{c}`" for c in param.choices))
        if param.literal:
            notes.append("a literal")
        if notes:
            lines.append(f"- `{param.name}`: " + "; ".join(notes))
    return lines


def main() -> None:
    sys.stdout.write(render_reference())


if __name__ == "__main__":
    main()
