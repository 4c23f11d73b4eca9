"""Runtime test ordering: the leak check (test_runtime_leaks.py) runs after
every other test of the session, whichever tests were selected."""

from __future__ import annotations


def pytest_collection_modifyitems(session, config, items) -> None:
    last = [item for item in items if item.nodeid.split("::")[0].endswith("test_runtime_leaks.py")]
    if last:
        others = [item for item in items if item not in last]
        items[:] = others + last
