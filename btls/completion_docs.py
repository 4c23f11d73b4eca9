"""The documentation completionItem/resolve fills in, from an item's small
`data` key: builtins and providers from their tables, tracepoint formats
and kernel prototypes from the kernel facts, config keys and keywords.

Builtin and provider texts do not change, so they are built once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

# What each keyword does, in one line.
_KEYWORDS = {
    "if": "Runs a block when the condition is true: `if (cond) { ... } else { ... }`.",
    "else": "The branch of an `if` taken when its condition is false.",
    "while": "Repeats a block while the condition is true (bounded by the verifier).",
    "for": "Loops over a map's entries (`for ($kv : @m)`) or a range (`for ($i : 0..10)`).",
    "unroll": "Repeats a block a constant number of times (1 to 100), unrolled at compile time.",
    "return": "Leaves the probe (or returns a value from a `fn`).",
    "break": "Leaves the innermost loop.",
    "continue": "Goes on with the next iteration of the innermost loop.",
    "let": "Declares a `$variable` (with an optional type) in the current block, or a map with its kind: "
    "`let @m = hash(1024);` at the top level.",
    "config": "The config block sets options for the whole program: `config = { max_strlen = 128; }`.",
    "macro": "Defines a macro, expanded where it is called: `macro add_one(x) { x + 1 }`.",
    "fn": "Defines a function: `fn add(\\$a: int64, \\$b: int64): int64 { return \\$a + \\$b; }`.",
    "import": "Imports the definitions of another file (unstable: config `unstable_import`).",
    "struct": "Defines a C struct for casts: `struct point { int x; int y; };`.",
    "#include": "Includes a C header for its struct definitions and `#define`s.",
    "#define": "Defines a C macro constant usable in the program.",
}


def documentation(facts, kind: Optional[str], name: Optional[str]) -> Optional[tuple[str, str]]:
    """(detail or "", markdown) for an item's data, or None."""
    if not isinstance(name, str):
        return None
    if kind == "builtin":
        return builtin_doc(name)
    if kind == "provider":
        return provider_doc(name)
    if kind == "kw" and name in _KEYWORDS:
        return "", _KEYWORDS[name]
    if kind == "config":
        return config_doc(name)
    if kind == "tp":
        return tracepoint_doc(facts, name)
    if kind == "kfunc":
        return function_doc(facts, name)
    return None


@lru_cache(maxsize=None)
def builtin_doc(name: str) -> Optional[tuple[str, str]]:
    from compiler.semantic.builtins import lookup

    entry = lookup(name)
    if entry is None:
        return None
    if entry.kind == "variable":
        returns = entry.signatures[0].returns
        shown = entry.name if entry.name != "argN" else "arg0 ... argN"
        header = f"{shown}: {returns}" if returns is not None and not callable(returns) else shown
        calls = [s.label(entry.name) for s in entry.signatures[1:]]
    else:
        header = ""
        calls = [s.label(entry.name) for s in entry.signatures]
    lines = ([header] if header else []) + calls
    notes = []
    if entry.providers is not None:
        notes.append("Only in " + ", ".join(sorted(entry.providers)) + " probes.")
    if entry.since:
        notes.append(f"Since bpftrace {entry.since}.")
    text = "```\n" + "\n".join(lines) + "\n```\n\n" + entry.doc
    if notes:
        text += "\n\n" + " ".join(notes)
    return "", text


@lru_cache(maxsize=None)
def provider_doc(name: str) -> Optional[tuple[str, str]]:
    from compiler.semantic.probes import provider

    found = provider(name)
    return ("", found.markdown()) if found is not None else None


def config_doc(key: str) -> Optional[tuple[str, str]]:
    from compiler.semantic.definitions import CONFIG_KEYS

    if key not in CONFIG_KEYS:
        return None
    kinds, choices = CONFIG_KEYS[key]
    text = f"`{key}`: a config option. Takes {' or '.join(kinds)}"
    if choices:
        text += ": " + ", ".join(f"`{choice}`" for choice in choices)
    return "", text + "."


def tracepoint_doc(facts, name: str) -> Optional[tuple[str, str]]:
    from .completion_members import c_declaration

    category, _, event = name.partition(":")
    found = facts.tracepoint(category, event)
    if found is None:
        return None
    fields = "\n".join(f"    {c_declaration(f.type, f.name)};" for f in found.fields)
    text = f"**tracepoint:{category}:{event}**, fields of `args`:\n\n```c\nstruct {{\n{fields}\n}}\n```"
    return f"tracepoint:{category}:{event}", text


def function_doc(facts, name: str) -> Optional[tuple[str, str]]:
    from .completion_members import c_declaration

    found = facts.function(name)
    if found is None:
        return None
    params = ", ".join(c_declaration(t, n) for n, t in found.params) or "void"
    prototype = f"{c_declaration(found.return_type, name)}({params})"
    note = "A kernel function; in `fentry`/`fexit` probes its parameters are the fields of `args`."
    return prototype, f"```c\n{prototype};\n```\n\n{note}"
