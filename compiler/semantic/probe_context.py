"""What a probe gives its body: the type of `args` (from a tracepoint's
format or a kernel function's prototype), and of `retval` in fexit.

A probe with several attach points must type-check for each of them, so its
`args` has only the fields that every attach point has, each with the type
they share. Without kernel facts, `args` is UNKNOWN and nothing about it is
reported.
"""

from __future__ import annotations

import zlib
from typing import Optional

from ..kernel import ctypes as C
from ..kernel.facts import matching
from ..syntax import ast
from ..syntax.attach_points import canonical_provider
from . import types as T

# The synthesised struct that types a probe's `args`.
ARGS_RECORD_PREFIX = "_args_"
_ARGS_FROM_FORMAT = ("tracepoint",)
_ARGS_FROM_PROTOTYPE = ("fentry", "fexit")


class ProbeContext:
    def probe_args_type(self, attach_points: list) -> Optional[T.Type]:
        formats: list[C.Tracepoint] = []
        for ap in attach_points:
            provider = canonical_provider(ap.provider.text) if ap.provider else None
            if provider in _ARGS_FROM_FORMAT:
                found = self._tracepoint_formats(ap)
            elif provider in _ARGS_FROM_PROTOTYPE:
                found = self._prototype_args(ap, provider)
            else:
                found = None
            if found is None:
                return T.UNKNOWN
            formats.extend(found)
        if not formats:
            return T.UNKNOWN
        return self._shared_args(formats)

    def _tracepoint_formats(self, ap: ast.AttachPoint) -> Optional[list[C.Tracepoint]]:
        target = ap.part(ast.Role.TARGET)
        event = ap.part(ast.Role.EVENT)
        if event is None:
            return None
        category = target.text if target else "*"
        if "$" in category + event.text:  # positional parameters: known at run time
            return None
        names = [(category, event.text)]
        if any(c in category + event.text for c in "*?["):
            every = list(self.facts.tracepoints())
            names = [
                tuple(name.split(":", 1))
                for name in matching(f"{category}:{event.text}", (f"{c}:{e}" for c, e in every))
            ]
        found = [self.facts.tracepoint(c, e) for c, e in names]
        if not found or any(f is None for f in found):
            return None
        return found

    def _prototype_args(self, ap: ast.AttachPoint, provider: str) -> Optional[list[C.Tracepoint]]:
        function = ap.part(ast.Role.FUNCTION)
        if function is None or any(c in function.text for c in "*?["):
            return None
        proto = self.facts.function(function.text)
        if proto is None:
            return None
        fields = tuple(C.CField(name, ctype, 8 * i) for i, (name, ctype) in enumerate(proto.params))
        return [C.Tracepoint(provider, function.text, fields)]

    def _shared_args(self, formats: list[C.Tracepoint]) -> T.Type:
        first = formats[0]
        fields = [f for f in first.fields if not f.name.startswith("common_")]
        for other in formats[1:]:
            names = {f.name: f for f in other.fields}
            fields = [f for f in fields if f.name in names and names[f.name].type == f.type]
        size = max((f.offset + C.type_size(f.type) for f in fields), default=0)
        if len(formats) == 1:
            name = f"{ARGS_RECORD_PREFIX}{first.category}_{first.event}"
        else:
            # Named by its attach points, not by where the probe is: an edit
            # elsewhere must not rename it (reuse.py copies types across edits).
            points = "\n".join(f"{f.category}:{f.event}" for f in formats)
            name = f"{ARGS_RECORD_PREFIX}probe_{zlib.crc32(points.encode()):08x}"
        record = C.CRecord("struct", name, size, tuple(fields))
        return self.ctx.define_record(record)

    def context_type(self, name: str, node) -> Optional[T.Type]:
        """Builtins whose type depends on the probe rather than the table."""
        if name == "args":
            return self.args_type if self.args_type is not None else T.UNKNOWN
        if name == "retval" and "fexit" in self.providers:
            return T.UNKNOWN
        return None
