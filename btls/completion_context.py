"""What to complete at the cursor, worked out from the text around it.

While the user types, the document is usually broken (`kprobe:` with no
body, `curtask->` with no field), and the parser drops exactly the part
being typed. So the context comes from the text: one regex pass over the
text before the cursor finds the open braces (skipping strings and
comments), the header of the outermost open block says what kind of block
it is (probe, config, macro, fn, C struct), and the characters just before
the cursor say what is being typed (a provider, an attach-point part, a
word, a `$var`, a field after `.`/`->`).

Everything here works on the document's UTF-8 bytes, so offsets are the
compiler's byte offsets. Types and scopes come later, in completion.py,
from the snapshot's analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# Context kinds.
NONE = "none"  # nothing to offer (in a string, a comment, a C struct...)
TOP = "top"  # the start of a top-level item: providers and keywords
ATTACH = "attach"  # a part of an attach point after its ':'
CODE = "code"  # a word in an action block or predicate
MEMBER = "member"  # a field after `.` or `->`
CONFIG_KEY = "config-key"
CONFIG_VALUE = "config-value"

# Strings, character literals, comments, and braces. Group 1/2: a closing
# quote; group 3: a block comment's end (empty when it runs to the cursor).
# Top-level `;`s are found later, in the little text after the last `}`.
_LEX = re.compile(
    rb'"(?:\\.|[^"\\\n])*(")?'
    rb"|'(?:\\.|[^'\\\n])*(')?"
    rb"|//[^\n]*"
    rb"|/\*.*?(\*/|\Z)"
    rb"|[{}]",
    re.S,
)
_COMMENT = re.compile(rb'"(?:\\.|[^"\\\n])*"?|//[^\n]*|/\*.*?(?:\*/|\Z)', re.S)
_WORD_BEFORE = re.compile(rb"[$@]?[A-Za-z0-9_]*\Z")
_IDENT_BEFORE = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*\Z")
_MEMBER_OP = re.compile(rb"(?<![.-])(\.|->)\s*\Z")
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_WINDOW = 256  # how far back a word or an expression chain may reach


@dataclass
class Context:
    kind: str
    start: int = 0  # byte offset where the text the completion replaces starts
    prefix: str = ""  # that text, up to the cursor
    # CODE and MEMBER: the canonical providers of the enclosing probe (empty
    # in fn and macro bodies, where any builtin may be meant).
    providers: tuple[str, ...] = ()
    block: int = -1  # the outermost open '{' (CODE/MEMBER), -1 at top level
    # TOP: after a ',' only providers make sense.
    after_comma: bool = False
    # ATTACH: the canonical provider and the parts already written after it.
    provider: Optional[str] = None
    parts: tuple[str, ...] = ()
    # MEMBER: the expression before the operator, and whether it was `->`.
    chain_start: int = 0
    chain_end: int = 0
    arrow: bool = False
    # CONFIG_VALUE: the key being set.
    key: str = ""


def context_at(data: bytes, offset: int, trigger: Optional[str] = None, restart: int = 0) -> Context:
    """The completion context at byte `offset` of `data`. `trigger` is the
    character that triggered the request, if one did. `restart` is a known
    top-level boundary before the cursor (see restart_point), where the scan
    may start instead of at the top of the file."""
    offset = max(0, min(offset, len(data)))
    restart = restart if 0 <= restart <= offset else 0
    stack: list[int] = []  # offsets of the open '{'s
    top_start = restart  # where the current top-level item starts, up to a `;`
    header_start = restart  # where the outermost open block's header starts
    for match in _LEX.finditer(data, restart, offset):
        char = data[match.start()]
        if char == 0x7B:  # {
            if not stack:
                header_start = top_start
            stack.append(match.start())
        elif char == 0x7D:  # }
            if stack:
                stack.pop()
                if not stack:
                    top_start = match.end()
        elif match.end() == offset and _unterminated(match):
            return Context(NONE)
    if stack:
        context = _in_block(data, offset, stack, _header(data, header_start, stack[0]))
    else:
        context = _at_top(data, offset, top_start)
    return _fits_trigger(context, trigger)


def restart_point(items, data: bytes, offset: int) -> int:
    """The end of the last top-level item (from the parse) that closes with
    a `}` before the cursor's line: the text after it is all the scan needs.
    The parse is cached per version, so this saves rescanning a long file
    from its start on every request."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    best = 0
    for item in items:
        end = item.span.end
        if best < end <= line_start and data[end - 1 : end] == b"}":
            best = end
    return best


def _unterminated(match: re.Match) -> bool:
    text = match.group(0)
    if text.startswith(b'"'):
        return match.group(1) is None
    if text.startswith(b"'"):
        return match.group(2) is None
    if text.startswith(b"//"):
        return True
    return match.group(3) == b""


def _fits_trigger(context: Context, trigger: Optional[str]) -> Context:
    """Trigger characters mean something only in some places: `>` only as
    part of `->`, `.` only before a field, `:` only in attach points."""
    if trigger == ">" and not (context.kind == MEMBER and context.arrow):
        return Context(NONE)
    if trigger == "." and context.kind != MEMBER:
        return Context(NONE)
    if trigger == ":" and context.kind != ATTACH:
        return Context(NONE)
    return context


def _code_only(data: bytes) -> bytes:
    """`data` with comments and strings blanked (offsets kept)."""
    return _COMMENT.sub(lambda m: b" " * len(m.group(0)), data)


def _header(data: bytes, start: int, brace: int) -> bytes:
    """The header of the block opened at `brace`: the text of its top-level
    item before the brace, without comments or preprocessor lines."""
    text = _code_only(data[start:brace])
    lines = [line for line in text.split(b"\n") if not line.lstrip().startswith(b"#")]
    return b"\n".join(lines).rsplit(b";", 1)[-1]


# ---------------------------------------------------------------- top level


def _at_top(data: bytes, offset: int, top_start: int) -> Context:
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data[line_start:offset]
    directive = re.fullmatch(rb"\s*(#[A-Za-z_]*)", line)
    if directive:
        return Context(TOP, offset - len(directive.group(1)), directive.group(1).decode())
    if line.lstrip().startswith(b"#"):
        return Context(NONE)
    chunk = _code_only(data[top_start:offset])
    chunk = b"\n".join(l for l in chunk.split(b"\n") if not l.lstrip().startswith(b"#"))
    chunk = chunk.rsplit(b";", 1)[-1]
    first = re.match(rb"\s*\S+", chunk)
    if first is not None:
        predicate = re.search(rb"\s/", chunk[first.end() :])
        if predicate is not None:
            # In a predicate (`kprobe:f /pid == 1/`): code, as in a block.
            header = chunk[: first.end() + predicate.start()]
            return _code(data, offset, header_providers(header), block=-1)
    token = re.search(rb"[^\s,{}]*\Z", chunk).group(0)
    before = chunk[: len(chunk) - len(token)].rstrip(b" \t")
    if b":" in token:
        return _attach(token.decode("utf-8", "replace"), offset)
    if not re.fullmatch(rb"[A-Za-z_][A-Za-z0-9_]*|", token):
        return Context(NONE)
    after_comma = before.endswith(b",")
    if before and not after_comma and not before.endswith(b"\n"):
        return Context(NONE)  # `config = `, `let @m = `: not the start of an item
    return Context(TOP, offset - len(token), token.decode(), after_comma=after_comma)


def _attach(token: str, offset: int) -> Context:
    """`kprobe:vfs_r`, `tracepoint:syscalls:`, `uprobe:/bin/bash:`..."""
    label = _LABEL.match(token)
    if label:
        token = token[label.end() :]
    pieces = split_unquoted(token)
    last = pieces[-1]
    if last.startswith('"'):
        return Context(NONE)
    from compiler.syntax.attach_points import canonical_provider

    provider = canonical_provider(pieces[0].strip('"'))
    if provider is None:
        return Context(NONE)
    start = offset - len(last.encode())
    parts = tuple(p.strip('"') for p in pieces[1:-1])
    return Context(ATTACH, start, last, provider=provider, parts=parts)


def split_unquoted(text: str) -> list[str]:
    """`text` cut at each ':' outside double quotes (quotes kept)."""
    pieces, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ":" and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def header_providers(header: bytes) -> tuple[str, ...]:
    """The canonical providers of a probe header's attach points (those
    that are known; `kprobe:a, tracepoint:b:c /pid/` gives both)."""
    from compiler.syntax.attach_points import canonical_provider

    predicate = re.search(rb"\s/", header.strip())
    if predicate is not None:
        header = header.strip()[: predicate.start()]
    found = []
    for raw in header.decode("utf-8", "replace").split(","):
        raw = raw.strip()
        label = _LABEL.match(raw)
        if label:
            raw = raw[label.end() :]
        provider = canonical_provider(split_unquoted(raw)[0].strip('"')) if raw else None
        if provider and provider not in found:
            found.append(provider)
    return tuple(found)


# ------------------------------------------------------------------ blocks


def _in_block(data: bytes, offset: int, stack: list[int], header: bytes) -> Context:
    if re.search(rb"\bconfig\s*=\s*\Z", header):
        return _config(data, offset, stack[-1])
    if re.match(rb"\s*(?:typedef\s+)?(?:struct|union|enum)\b", header):
        return Context(NONE)  # a C definition: clang's business, not ours
    if re.match(rb"\s*(?:macro|fn)\b", header):
        return _code(data, offset, (), block=stack[0])
    return _code(data, offset, header_providers(header), block=stack[0])


def _config(data: bytes, offset: int, brace: int) -> Context:
    entry = _code_only(data[brace + 1 : offset]).rsplit(b";", 1)[-1]
    word = _IDENT_BEFORE.search(entry)
    prefix = word.group(0).decode() if word else ""
    start = offset - len(prefix)
    if b"=" in entry:
        key = entry.split(b"=", 1)[0].strip().decode("utf-8", "replace")
        return Context(CONFIG_VALUE, start, prefix, key=key)
    if entry[: len(entry) - len(prefix)].strip():
        return Context(NONE)
    return Context(CONFIG_KEY, start, prefix)


def _code(data: bytes, offset: int, providers: tuple[str, ...], block: int) -> Context:
    window_start = max(0, offset - _WINDOW)
    word = _WORD_BEFORE.search(data, window_start, offset).group(0)
    start = offset - len(word)
    operator = _MEMBER_OP.search(data, window_start, start)
    if operator is not None and not word.startswith((b"$", b"@")):
        chain_end = operator.start()
        chain_start = chain_start_before(data, chain_end)
        if chain_start < chain_end:
            return Context(
                MEMBER, start, word.decode(), providers, block,
                chain_start=chain_start, chain_end=chain_end, arrow=operator.group(1) == b"->",
            )  # fmt: skip
        return Context(NONE)
    if word[:1].isdigit() or (word[:1] in (b"$", b"@") and word[1:2].isdigit()):
        return Context(NONE)  # a number, or a positional parameter
    return Context(CODE, start, word.decode(), providers, block)


# ------------------------------------------------------ expression chains


def chain_start_before(data: bytes, end: int) -> int:
    """Where the postfix expression ending at `end` starts: `$t->mm`,
    `@m[k].f`, `args.path`, `((struct file *)arg0)`. Returns `end` when
    there is none."""
    limit = max(0, end - _WINDOW)
    i = end
    while i > limit:
        char = data[i - 1 : i]
        if char == b"]":
            opening = _matching_back(data, i - 1, limit, ord("["), ord("]"))
            if opening < 0:
                return end
            i = opening
            continue
        if char == b")":
            opening = _matching_back(data, i - 1, limit, ord("("), ord(")"))
            if opening < 0:
                return end
            callee = _IDENT_BEFORE.search(data, limit, opening)
            return callee.start() if callee else opening
        word = _WORD_BEFORE.search(data, limit, i).group(0)
        if not word or word in (b"$", b"@"):
            return i if i < end else end
        i -= len(word)
        if word[:1] in (b"$", b"@"):
            return i
        if data[i - 1 : i] == b"." and data[i - 2 : i - 1] != b".":
            i -= 1
        elif data[i - 2 : i] == b"->":
            i -= 2
        else:
            return i
    return end


def _matching_back(data: bytes, close: int, limit: int, open_char: int, close_char: int) -> int:
    depth = 0
    for i in range(close, limit - 1, -1):
        if data[i] == close_char:
            depth += 1
        elif data[i] == open_char:
            depth -= 1
            if depth == 0:
                return i
    return -1


@dataclass
class Step:
    """One step of a chain: a field (`.name`/`->name`) or an index (`[..]`)."""

    field: Optional[str]


def split_chain(text: str) -> tuple[str, list[Step]]:
    """`$t->mm->arg_start` into its base (`$t`) and steps. A parenthesised
    base (a cast) or a call is returned whole, as the base."""
    i = 0
    if text.startswith("("):
        i = _matching_forward(text, 0, "(", ")") + 1
    else:
        head = re.match(r"[$@]?[A-Za-z_0-9]*", text)
        i = head.end()
        if text[i : i + 1] == "(":
            i = _matching_forward(text, i, "(", ")") + 1
    if i <= 0:
        return text, []
    base, steps = text[:i], []
    while i < len(text):
        step = re.match(r"\s*(?:\.|->)\s*([A-Za-z_0-9]+)", text[i:])
        if step is not None:
            steps.append(Step(step.group(1)))
            i += step.end()
        elif text[i] == "[":
            close = _matching_forward(text, i, "[", "]")
            if close < 0:
                break
            steps.append(Step(None))
            i = close + 1
        else:
            break
    return base, steps


def _matching_forward(text: str, open_at: int, open_char: str, close_char: str) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == open_char:
            depth += 1
        elif text[i] == close_char:
            depth -= 1
            if depth == 0:
                return i
    return -1


_CAST = re.compile(r"\(\s*\(\s*(struct|union)\s+([A-Za-z_]\w*)\s*(\*+)\s*\)")


def cast_of(base: str) -> Optional[tuple[str, str, int]]:
    """`((struct file *)arg0)` as (kind, name, pointer depth), or None."""
    match = _CAST.match(base)
    return (match.group(1), match.group(2), len(match.group(3))) if match else None
