"""Initialize, settings and configuration changes."""

from __future__ import annotations

from lsprotocol import types as lsp

from .guard import guarded


def register(server) -> None:
    @server.feature(lsp.INITIALIZE)
    @guarded()
    def initialize(ls, params: lsp.InitializeParams) -> None:
        ls.apply_settings(params.initialization_options)

    @server.feature(lsp.INITIALIZED)
    @guarded()
    async def initialized(ls, params: lsp.InitializedParams) -> None:
        if ls.client_has_configuration():
            await _pull_configuration(ls)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded()
    async def did_change_configuration(ls, params: lsp.DidChangeConfigurationParams) -> None:
        changed = False
        if isinstance(params.settings, dict) and params.settings:
            changed = ls.apply_settings(params.settings)
        if ls.client_has_configuration():
            changed = await _pull_configuration(ls) or changed
        if changed:
            from .diagnostics import refresh_all

            refresh_all(ls)


async def _pull_configuration(ls) -> bool:
    try:
        answer = await ls.workspace_configuration_async(
            lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="btls")])
        )
    except Exception:  # noqa: BLE001 - a client may refuse; initializationOptions stay
        return False
    if answer and isinstance(answer[0], dict):
        return ls.apply_settings(answer[0])
    return False
