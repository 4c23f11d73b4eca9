"""What completion offers, before it becomes LSP items: `Candidate`s, the
sort groups, keyword candidates, and call snippets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lsprotocol import types as lsp

K = lsp.CompletionItemKind

# Sort groups: what is in scope first, then builtins and user definitions,
# then keywords.
LOCAL, NAMES, KEYWORDS = 0, 1, 2


@dataclass
class Candidate:
    label: str
    kind: lsp.CompletionItemKind
    detail: str = ""
    insert: Optional[str] = None  # the plain text inserted (default: the label)
    snippet: Optional[str] = None  # inserted instead when the client takes snippets
    group: int = NAMES
    filter: Optional[str] = None
    data: Optional[dict] = None


def keywords(snippets: dict, detail: str) -> list[Candidate]:
    """Keyword candidates: a snippet each (or None) for snippet clients."""
    return [Candidate(word, K.Keyword, detail, word, snippet, KEYWORDS, data={"k": "kw", "n": word})
            for word, snippet in snippets.items()]  # fmt: skip


def call_snippet(name: str, params: list[str]) -> str:
    """`name(${1:a}, ${2:b})`; a parameter written `"fmt"` becomes a quoted
    placeholder, an empty one a bare tab stop."""
    parts = []
    for index, param in enumerate(params, 1):
        quoted = param.startswith('"') and param.endswith('"') and len(param) > 1
        inner = _escape(param[1:-1] if quoted else param)
        placeholder = f"${{{index}:{inner}}}" if inner else f"${{{index}}}"
        parts.append(f'"{placeholder}"' if quoted else placeholder)
    return f"{name}({', '.join(parts)})" + ("$0" if not parts else "")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")
