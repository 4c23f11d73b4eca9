"""Types to JSON and back, so that a compiled program's description can be
cached on disk (program.py). Every type of compiler.semantic.types is a
frozen dataclass; a type becomes its class name and its fields."""

from __future__ import annotations

from dataclasses import fields

from ..semantic import types as T

_CLASSES = {
    cls.__name__: cls
    for cls in (
        T.Unknown, T.Void, T.Bool, T.Int, T.String, T.Buffer, T.Inet, T.Pointer, T.Array,
        T.CRecord, T.Tuple, T.Record, T.Special, T.Aggregation,
    )
}  # fmt: skip


def type_to_json(t: T.Type):
    data = {"type": type(t).__name__}
    for f in fields(t):
        value = getattr(t, f.name)
        if f.name == "key":  # CRecord's identity among anonymous records: not portable
            continue
        data[f.name] = _value_to_json(value)
    return data


def _value_to_json(value):
    if isinstance(value, T.Type):
        return type_to_json(value)
    if isinstance(value, tuple):
        return [_value_to_json(v) for v in value]
    return value


def type_from_json(data) -> T.Type:
    cls = _CLASSES[data["type"]]
    kwargs = {}
    for name, value in data.items():
        if name == "type":
            continue
        kwargs[name] = _value_from_json(value)
    return cls(**kwargs)


def _value_from_json(value):
    if isinstance(value, dict):
        return type_from_json(value)
    if isinstance(value, list):
        return tuple(_value_from_json(v) for v in value)
    return value
