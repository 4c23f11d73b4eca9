"""Documents as the server sees them: one immutable `Snapshot` per (uri,
version), holding its parse and analysis once computed.

pygls applies incremental edits to its own workspace copy; a snapshot is
taken from that text when a feature first asks for a version, and every
later request for the same version reuses its analysis. Only the latest
snapshot per document is kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Optional
from urllib.parse import unquote, urlparse

from .convert import Converter

# Files read from disk (a request about a document the client never opened,
# the workspace symbol index) are skipped above this size.
MAX_DISK_BYTES = 16 * 1024 * 1024


@dataclass(eq=False)
class Snapshot:
    uri: str
    version: Optional[int]
    text: str
    encoding: str
    facts_provider: Callable[[], object]
    _parsed: object = field(default=None, repr=False)
    _analysis: object = field(default=None, repr=False)
    # The previous version's parse: the new parse reuses its untouched
    # items; and its analysis: the new analysis reuses the types the edit
    # cannot have changed.
    base: object = field(default=None, repr=False)
    base_analysis: object = field(default=None, repr=False)
    _converter: Optional[Converter] = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The name diagnostics and the CLI would use: the file's base name."""
        path = uri_to_path(self.uri)
        return os.path.basename(path) if path else "stdin"

    @property
    def parsed(self):
        if self._parsed is None:
            from compiler.syntax.incremental import reparse

            self._parsed = reparse(self.base, self.text, self.name)
            self.base = None
        return self._parsed

    @property
    def analysis(self):
        if self._analysis is None:
            from compiler.semantic.analysis import analyse

            previous, self.base_analysis = self.base_analysis, None
            self._analysis = analyse(
                self.parsed, self.facts_provider(), name=self.name, previous=previous, reusable=True
            )
        return self._analysis

    @property
    def source(self):
        return self.parsed.source

    @property
    def program(self):
        return self.parsed.program

    @property
    def converter(self) -> Converter:
        if self._converter is None:
            self._converter = Converter(self.source, self.uri, self.encoding)
        return self._converter


class DocumentStore:
    """The latest snapshot of every document a feature asked about."""

    def __init__(self, workspace_getter: Callable[[], object], facts_provider, encoding_getter) -> None:
        self._workspace = workspace_getter
        self._facts = facts_provider
        self._encoding = encoding_getter
        self._latest: dict[str, Snapshot] = {}

    def is_open(self, uri: str) -> bool:
        return uri in self._open_documents()

    def version(self, uri: str) -> Optional[int]:
        document = self._open_documents().get(uri)
        return document.version if document is not None else None

    def get(self, uri: str) -> Snapshot:
        """The current snapshot of `uri`: the open document's text, else the
        file on disk, else an empty document (requests about it answer empty)."""
        document = self._open_documents().get(uri)
        if document is not None:
            version, text = document.version, document.source
        else:
            version, text = None, read_text_file(uri_to_path(uri))
        cached = self._latest.get(uri)
        if cached is not None and cached.version == version and (version is not None or cached.text == text):
            return cached
        base = base_analysis = None
        if cached is not None:
            base = cached._parsed or cached.base
            base_analysis = cached._analysis if cached._parsed is not None else cached.base_analysis
        snapshot = Snapshot(uri, version, text, self._encoding(), self._facts, base=base, base_analysis=base_analysis)
        self._latest[uri] = snapshot
        return snapshot

    def forget(self, uri: str) -> None:
        self._latest.pop(uri, None)

    def _open_documents(self) -> dict:
        workspace = self._workspace()
        return getattr(workspace, "text_documents", {}) if workspace is not None else {}


def uri_to_path(uri: str) -> Optional[str]:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return unquote(parsed.path) or None


def path_to_uri(path: str) -> str:
    from pathlib import Path

    return Path(path).resolve().as_uri()


def read_text_file(path: Optional[str]) -> str:
    """A file's text, or "" when it is missing, unreadable, binary or huge."""
    if not path:
        return ""
    try:
        if os.path.getsize(path) > MAX_DISK_BYTES:
            return ""
        with open(path, "rb") as handle:
            data = handle.read()
        if b"\0" in data:
            return ""
        return data.decode("utf-8", errors="replace")
    except (OSError, ValueError):
        return ""
