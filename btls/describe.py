"""Markdown descriptions of what a script names: builtins, probe providers,
tracepoint formats, kernel function prototypes, C record layouts, symbols
and keywords. Hover shows them; signature help and completion may reuse
them.

Everything here reads the compiler's tables (the builtins table, the
provider table, kernel facts); nothing about a builtin or a provider is
written down again. This module imports the frontend, so features import
it lazily, inside their handlers, never at server start.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterable, Optional

from compiler.docs import FLAG_TEXT
from compiler.kernel import ctypes as C
from compiler.kernel.listing import type_name
from compiler.semantic import types as T
from compiler.semantic.builtins import Builtin, Param, Signature

# Records with more fields are cut here: task_struct has hundreds.
MAX_LAYOUT_FIELDS = 40
# Wildcard hovers list this many matches, then say how many more.
MAX_LISTED_MATCHES = 10

# ------------------------------------------------------------ markup


def code(text: str, language: str = "bpftrace") -> str:
    return f"```{language}\n{text}\n```"


_MARKUP = re.compile(r"\*\*(.+?)\*\*|\*(\S.*?)\*|`([^`]+)`")


def plain(markdown: str) -> str:
    """The same text for clients that cannot render markdown: fences,
    backticks and emphasis dropped, code kept exactly as written (its `*`
    are pointers, not emphasis)."""
    lines, in_code = [], False
    for line in markdown.split("\n"):
        if line.startswith("```"):
            in_code = not in_code
        elif in_code:
            lines.append(line)
        else:
            lines.append(_MARKUP.sub(lambda m: next(g for g in m.groups() if g is not None), line))
    return "\n".join(lines)


# ---------------------------------------------------------- builtins


def returns_text(sig: Signature) -> Optional[str]:
    """A signature's fixed return type, when the table gives one (a rule
    decides it per call, and void says nothing worth showing)."""
    if isinstance(sig.returns, T.Type) and not T.is_unknown(sig.returns) and sig.returns != T.VOID:
        return str(sig.returns)
    return None


def builtin_forms(entry: Builtin, name: str, value_type: Optional[T.Type] = None) -> list[str]:
    """One line per way of writing the builtin: `pid: uint32`,
    `pid(ident namespace) → uint32`. A variable's bare form shows its type
    here when the analysis knows it (`args`, `retval`), else the table's."""
    lines = []
    for sig in entry.signatures:
        if entry.kind == "variable" and not sig.params and sig.variadic is None:
            shown = value_type if value_type is not None and not T.is_unknown(value_type) else None
            type_text = str(shown) if shown is not None else returns_text(sig)
            lines.append(f"{name}: {type_text}" if type_text else name)
            continue
        label = sig.label(name)
        result = returns_text(sig)
        lines.append(f"{label} → {result}" if result else label)
    return lines


def param_notes(param: Param) -> str:
    notes = [param.doc] if param.doc else []
    if param.choices:
        notes.append("one of " + ", ".join(f"`{c}`" for c in param.choices))
    if param.literal:
        notes.append("a literal")
    return "; ".join(notes)


def builtin(entry: Builtin, name: str, value_type: Optional[T.Type] = None) -> str:
    kind = "builtin variable" if entry.kind == "variable" else "builtin function"
    parts = [code("\n".join(builtin_forms(entry, name, value_type))), f"*{kind}*"]
    params: dict[str, Param] = {}
    for sig in entry.signatures:
        for param in (*sig.params, *([sig.variadic] if sig.variadic else [])):
            if param.name not in params or (param.doc and not params[param.name].doc):
                params[param.name] = param
    listed = [f"- `{p.name}`: {param_notes(p)}" for p in params.values() if param_notes(p)]
    if listed:
        parts.append("Parameters:\n" + "\n".join(listed))
    facts = []
    if entry.aliases:
        facts.append("Also spelled " + ", ".join(f"`{a}`" for a in entry.aliases) + ".")
    if entry.providers is not None:
        hint = f" ({entry.provider_hint})" if entry.provider_hint else ""
        facts.append(f"Probes: {', '.join(sorted(entry.providers))}{hint}.")
    if entry.flags:
        facts.append("Flags: " + "; ".join(FLAG_TEXT.get(f, f) for f in sorted(entry.flags)) + ".")
    if entry.since:
        facts.append(f"Since bpftrace {entry.since}.")
    if facts:
        parts.append(" ".join(facts))
    parts.append(entry.doc.strip())
    return "\n\n".join(parts)


# --------------------------------------------------------- providers


def provider(entry) -> str:
    """A probe provider (compiler.semantic.probes.Provider)."""
    text = entry.markdown()
    facts = []
    if entry.aliases:
        facts.append("Aliases: " + ", ".join(f"`{a}`" for a in entry.aliases) + ".")
    if entry.since:
        facts.append(f"Since bpftrace {entry.since}.")
    if entry.removed:
        hint = f": {entry.removed_hint}" if entry.removed_hint else ""
        facts.append(f"Removed in bpftrace {entry.removed}{hint}.")
    return text + ("\n\n" + " ".join(facts) if facts else "")


def declaration(ctype, name: str) -> str:
    """`TYPE NAME` as C writes it: `char comm[16]`, `struct file *file`."""
    if isinstance(ctype, C.CArray):
        return f"{declaration(ctype.element, name)}[{ctype.length}]"
    spelled = type_name(ctype)
    return f"{spelled}{name}" if spelled.endswith("*") else f"{spelled} {name}"


def c_size(ctype, records: Callable) -> int:
    return C.type_size(ctype, records)


def _layout_lines(fields: Iterable[C.CField], records: Callable, indent: str = "    ") -> list[str]:
    """`TYPE NAME;  // offset N, size M` per field, comments aligned."""
    fields = list(fields)
    shown = fields[:MAX_LAYOUT_FIELDS]
    decls = []
    for f in shown:
        text = declaration(f.type, f.name or "")
        if f.bitfield_bits:
            text += f" : {f.bitfield_bits}"
        decls.append(f"{indent}{text};")
    width = max((len(d) for d in decls), default=0)
    lines = []
    for decl, f in zip(decls, shown):
        size = f"{f.bitfield_bits} bits" if f.bitfield_bits else f"size {c_size(f.type, records)}"
        lines.append(f"{decl.ljust(width)}  // offset {f.offset}, {size}")
    if len(fields) > len(shown):
        lines.append(f"{indent}// ... {len(fields) - len(shown)} more fields")
    return lines


def tracepoint(tp: C.Tracepoint, records: Callable) -> str:
    """A tracepoint's format: the fields its `args` has (common_* left out,
    as `bpftrace -lv` does)."""
    fields = [f for f in tp.fields if not f.name.startswith("common_")]
    body = _layout_lines(fields, records)
    head = f"tracepoint:{tp.category}:{tp.event}"
    block = code("\n".join([f"struct args {{  // {head}", *body, "};"]), "c")
    return f"**{head}**\n\n{block}\n\nRead the fields as `args.NAME`."


def prototype(fn: C.CFunction) -> str:
    params = ", ".join(declaration(t, n) for n, t in fn.params) or "void"
    return f"{type_name(fn.return_type)} {fn.name}({params})"


def kernel_function(fn: C.CFunction, provider_name: str) -> str:
    text = f"**{fn.name}** (kernel function)\n\n" + code(prototype(fn) + ";", "c")
    if provider_name in ("fentry", "fexit"):
        names = ", ".join(f"`args.{n}`" for n, _ in fn.params)
        extra = f", `retval` ({type_name(fn.return_type)})" if provider_name == "fexit" else ""
        text += f"\n\nArguments: {names or 'none'}{extra}."
    elif provider_name in ("kprobe", "uprobe"):
        names = ", ".join(f"`arg{i}` = {n}" for i, (n, _) in enumerate(fn.params))
        text += f"\n\nRegisters: {names or 'none'} (cast them to their types)."
    elif provider_name in ("kretprobe",):
        text += f"\n\n`retval` holds the returned {type_name(fn.return_type)}."
    return text


def wildcard(kind: str, pattern: str, matches: list[str]) -> str:
    count = len(matches)
    noun = kind if count == 1 else kind + "s"
    text = f"`{pattern}` matches {count} {noun}"
    if not matches:
        return text + "."
    listed = "\n".join(f"- `{m}`" for m in matches[:MAX_LISTED_MATCHES])
    more = f"\n- ... and {count - MAX_LISTED_MATCHES} more" if count > MAX_LISTED_MATCHES else ""
    return f"{text}:\n\n{listed}{more}"


# ----------------------------------------------------------- C types


def record_layout(record: C.CRecord, records: Callable, title: str = "") -> str:
    """A struct or union as C would declare it, with each field's offset
    and size, and the record's size."""
    name = title or (f"{record.kind} {record.name}" if record.name else f"{record.kind} {{...}}")
    body = _layout_lines(record.fields, records)
    return code("\n".join([f"{name} {{  // size {record.size}", *body, "};"]), "c")


def field(owner: str, f: C.CField, offset: int, bp_type: T.Type, records: Callable, label: str) -> str:
    """One field of a record: its bpftrace type, then its C declaration and
    place in `owner`."""
    size = f"{f.bitfield_bits} bits" if f.bitfield_bits else f"size {c_size(f.type, records)}"
    where = f"`{declaration(f.type, f.name)}` in {owner}, offset {offset}, {size}"
    return code(f"{label}: {bp_type}") + "\n\n" + where


# ----------------------------------------------------------- symbols


def map_type(symbol) -> str:
    """`@m[string[16]]: count_t`, `@x: hist_t`, as the map is written."""
    value = "?" if symbol.type is None else str(symbol.type)
    key = getattr(symbol, "key", None)
    if key is None or key == T.VOID:
        return f"{symbol.name}: {value}"
    keys = ", ".join(str(k) for k in key.elements) if isinstance(key, T.Tuple) else str(key)
    return f"{symbol.name}[{keys}]: {value}"


def map_symbol(symbol) -> str:
    parts = [code(map_type(symbol))]
    words = ["*map*"]
    if getattr(symbol, "key", None) == T.VOID:
        words.append("scalar (no key)")
    if getattr(symbol, "declared_kind", None):
        words.append(f"declared `{symbol.declared_kind}`")
    parts.append(", ".join(words))
    return "\n\n".join(parts)


def variable_symbol(symbol, shown_type: Optional[T.Type] = None, fn_param: bool = False) -> str:
    value = shown_type if shown_type is not None else symbol.type
    type_text = "?" if value is None else str(value)
    if getattr(symbol, "loop", False):
        what = "loop variable"
    elif fn_param:
        what = "fn parameter"
    elif getattr(symbol, "declared", False):
        what = "scratch variable, declared with `let`"
    else:
        what = "scratch variable"
    return code(f"{symbol.name}: {type_text}") + f"\n\n*{what}*"


def expression(text: str, value: T.Type) -> str:
    snippet = " ".join(text.split())
    if len(snippet) > 60:
        snippet = snippet[:57] + "..."
    return code(f"{snippet}: {value}")


# ---------------------------------------------------------- keywords

KEYWORDS = {
    "if": "`if (cond) { ... } else { ... }`: runs a block when `cond` is true (non-zero). "
    "Also an expression: `$x = if (a) { 1 } else { 2 };`.",
    "else": "The branch of an `if` taken when its condition is false.",
    "while": "`while (cond) { ... }`: repeats the block while `cond` holds. The verifier "
    "must see that it ends; `break` and `continue` work inside.",
    "for": "`for ($kv : @map) { ... }` visits each entry of a map (`$kv.0` key, `$kv.1` value); "
    "`for ($i : 0..N) { ... }` counts from 0 to N-1.",
    "unroll": "`unroll (N) { ... }`: repeats the block N times (1-100), copied out at compile time.",
    "return": "Ends the probe (or returns a value from an `fn`).",
    "break": "Leaves the innermost `while` or `for` loop.",
    "continue": "Skips to the next iteration of the innermost loop.",
    "config": "`config = { key = value; ... }`: sets bpftrace options for the program, "
    "like `-E` flags (`max_strlen`, `stack_mode`, ...). Must come before the probes.",
    "macro": "`macro name(params) { ... }`: a hygienic macro, expanded where it is called. "
    "Parameters are `$var`s, `@map`s or plain names that stand for expressions.",
    "fn": "`fn name($a: type, ...): type { ... }`: a function (experimental) that probes may call.",
    "let": "`let $x: type = value;` declares a scratch variable in this block; "
    "`let @m = hash(N);` declares a map's kind and size.",
    "import": '`import "file.bt";` brings in macros and functions from another file.',
    "sizeof": "`sizeof(type or expression)`: the size in bytes, known at compile time.",
    "offsetof": "`offsetof(struct name, field)`: a field's byte offset in a struct.",
    "typeinfo": "`typeinfo(expr)`: a record describing the type of `expr` (unstable).",
    "comptime": "`comptime expr`: evaluates `expr` at compile time.",
}


@lru_cache(maxsize=None)
def keyword(word: str) -> Optional[str]:
    doc = KEYWORDS.get(word)
    return f"**{word}** (keyword)\n\n{doc}" if doc else None
