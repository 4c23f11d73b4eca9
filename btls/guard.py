"""Every handler runs guarded: a bug in one feature is logged and answered
with an empty result, and the server keeps serving everything else."""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback
from typing import Any, Callable

log = logging.getLogger("btls")


def guarded(empty: Any = None) -> Callable:
    """Wrap a handler `f(ls, params)` (sync or async). On an exception the
    failure goes to the client's log (window/logMessage) and `empty` (or
    `empty()` when callable) is the answer."""

    def decorate(handler: Callable) -> Callable:
        def fallback():
            return empty() if callable(empty) else empty

        if asyncio.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def run_async(ls, params):
                try:
                    return await handler(ls, params)
                except asyncio.CancelledError:
                    raise
                except Exception as failure:  # noqa: BLE001 - the point of the guard
                    report_failure(ls, handler.__name__, failure)
                    return fallback()

            return run_async

        @functools.wraps(handler)
        def run(ls, params):
            try:
                return handler(ls, params)
            except Exception as failure:  # noqa: BLE001 - the point of the guard
                report_failure(ls, handler.__name__, failure)
                return fallback()

        return run

    return decorate


def report_failure(ls, where: str, failure: BaseException) -> None:
    details = "".join(traceback.format_exception(type(failure), failure, failure.__traceback__))
    log.error("btls: %s failed: %s", where, details)
    try:
        from lsprotocol import types as lsp

        ls.window_log_message(
            lsp.LogMessageParams(type=lsp.MessageType.Error, message=f"btls: {where} failed: {failure!r}\n{details}")
        )
    except Exception:  # noqa: BLE001 - logging must never fail the handler
        pass
