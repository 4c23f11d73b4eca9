"""The server's settings: from `initializationOptions`, then from
`workspace/didChangeConfiguration` or `workspace/configuration` when the
client has them (Neovim 0.7 has neither, so initializationOptions must be
enough on its own).

Keys, under a `btls` object or at the top level:

| key | default | meaning |
|---|---|---|
| `debounceMs` | 150 | delay between the last edit and re-analysing a document |
| `kernelFacts` | `"live"` | `"live"` (this machine's BTF and tracefs), `"none"`, or `"module:function"` returning a `KernelFacts` (fixtures) |
| `completionLimit` | 200 | the most items one completion answer holds (`isIncomplete` beyond) |
| `inlayHints.types` / `inlayHints.parameters` | true | which inlay hints to show |
| `run.privilege` | `"auto"` | how `btls.run` gets root for btc: `"auto"` (none when the server is root, else `sudo -n`), `"none"`, `"sudo"` (`sudo -n`, never a password prompt), `"pkexec"` |
| `trusted` | true | false: the workspace is not trusted and nothing is ever run; later settings can turn it off, never back on |
| `outputNotification` | false | the client handles `btls/output` notifications (else run output goes to window/logMessage) |
| `verifyOnSave` | false | run `btls.verify` (load into the kernel, without attaching) whenever a document is saved |
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

DEFAULT_DEBOUNCE_MS = 150
RUN_PRIVILEGES = ("auto", "none", "sudo", "pkexec")


@dataclass(frozen=True)
class Settings:
    debounce_ms: int = DEFAULT_DEBOUNCE_MS
    kernel_facts: str = "live"
    completion_limit: int = 200
    type_hints: bool = True
    parameter_hints: bool = True
    run_privilege: str = "auto"
    trusted: bool = True
    output_notification: bool = False
    verify_on_save: bool = False

    def updated(self, options: Any) -> Settings:
        """These settings with whatever `options` sets; bad values are ignored."""
        if not isinstance(options, dict):
            return self
        if isinstance(options.get("btls"), dict):
            options = options["btls"]
        changes: dict[str, Any] = {}
        debounce = options.get("debounceMs")
        if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and 0 <= debounce <= 10_000:
            changes["debounce_ms"] = int(debounce)
        facts = options.get("kernelFacts")
        if isinstance(facts, str) and facts:
            changes["kernel_facts"] = facts
        limit = options.get("completionLimit")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            changes["completion_limit"] = limit
        hints = options.get("inlayHints")
        if isinstance(hints, dict):
            if isinstance(hints.get("types"), bool):
                changes["type_hints"] = hints["types"]
            if isinstance(hints.get("parameters"), bool):
                changes["parameter_hints"] = hints["parameters"]
        run = options.get("run")
        if isinstance(run, dict) and run.get("privilege") in RUN_PRIVILEGES:
            changes["run_privilege"] = run["privilege"]
        # Trust can only be taken away: a workspace's own settings file must
        # not be able to re-enable running in a workspace the editor distrusts.
        if isinstance(options.get("trusted"), bool):
            changes["trusted"] = self.trusted and options["trusted"]
        if isinstance(options.get("outputNotification"), bool):
            changes["output_notification"] = options["outputNotification"]
        if isinstance(options.get("verifyOnSave"), bool):
            changes["verify_on_save"] = options["verifyOnSave"]
        return replace(self, **changes)
