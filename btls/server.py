"""The pygls server object and the features it registers.

For now the server starts over stdio and answers the initialize handshake
and shutdown; language features are added by later work, one module each,
registered here.
"""

from __future__ import annotations

from pygls.lsp.server import LanguageServer

from . import __version__


def create_server() -> LanguageServer:
    return LanguageServer("btls", __version__)
