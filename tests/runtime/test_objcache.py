"""The compiled-object cache: entries round-trip, and the key changes with
anything that changes the program."""

from __future__ import annotations

from compiler import objcache


def test_entries_round_trip(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    key = objcache.cache_key("BEGIN { exit(); }", [], {"unsafe": False})
    assert objcache.load(key) is None
    objcache.store(key, b"\x7fELF...", '{"probes": []}', "warning text\n")
    assert objcache.load(key) == (b"\x7fELF...", '{"probes": []}', "warning text\n")


def test_the_key_depends_on_source_arguments_and_flags() -> None:
    base = objcache.cache_key("BEGIN { exit(); }", ["a"], {"unsafe": False})
    assert base == objcache.cache_key("BEGIN { exit(); }", ["a"], {"unsafe": False})
    assert base != objcache.cache_key("BEGIN { exit(1); }", ["a"], {"unsafe": False})
    assert base != objcache.cache_key("BEGIN { exit(); }", ["b"], {"unsafe": False})
    assert base != objcache.cache_key("BEGIN { exit(); }", ["a"], {"unsafe": True})


def test_old_entries_are_cleaned_up(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(objcache, "KEEP_ENTRIES", 3)
    keys = [objcache.cache_key(f"p{i}", [], {}) for i in range(6)]
    for key in keys:
        objcache.store(key, b"o", "{}", "")
    kept = [k for k in keys if objcache.load(k) is not None]
    assert len(kept) == 3
