"""The JSON-RPC protocol with one fix: a request whose params do not fit
the method's type gets an InvalidParams error response.

pygls logs such a request and drops it, which leaves the client waiting
for an answer forever; a server must answer every request it received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol


@dataclass
class MalformedRequest:
    id: Any
    method: str
    error: Exception
    jsonrpc: str = "2.0"


class BtlsProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError) as failure:
            if isinstance(data, dict) and "id" in data and isinstance(data.get("method"), str):
                return MalformedRequest(data["id"], data["method"], failure)
            raise

    def handle_message(self, message):
        if isinstance(message, MalformedRequest):
            code = (
                lsp.ErrorCodes.InvalidParams
                if isinstance(message.error, JsonRpcInvalidParams)
                else lsp.ErrorCodes.InternalError
            )
            error = lsp.ResponseError(code=int(code), message=f"{message.method}: malformed request ({message.error})")
            self._send_response(message.id, None, error)
            return None
        return super().handle_message(message)
