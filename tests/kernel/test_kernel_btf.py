"""compiler.kernel.btf and btf_index: synthetic blobs, the cache, and the
real vmlinux BTF when this machine has it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from btf_builder import BTFBuilder

from compiler.kernel.btf import VMLINUX, KernelBTF
from compiler.kernel.ctypes import (
    CArray, CEnum, CEnumRef, CField, CFunction, CFunctionPointer, CInt, CPointer, CRecordRef,
    CUnsupported, CVoid,
)  # fmt: skip
from compiler.kernel.live import LiveFacts

ROOT = Path(__file__).resolve().parents[2]


def sample() -> BTFBuilder:
    """A blob with one of everything the decoder handles."""
    b = BTFBuilder()
    i32 = b.int("int", 4, signed=True)  # 1
    u32 = b.int("unsigned int", 4)  # 2
    char = b.int("char", 1, signed=True, char=True)  # 3
    u8 = b.int("unsigned char", 1)  # 4
    boolean = b.int("_Bool", 1, bool_=True)  # 5
    u64 = b.int("long long unsigned int", 8)  # 6
    b.typedef("__kernel_pid_t", i32)  # 7
    b.typedef("pid_t", 7)  # 8: typedef chain
    b.typedef("u8", u8)  # 9
    cv = b.modifier("const", b.modifier("volatile", u32))  # 11 -> 10 -> u32
    b.typedef("bool", boolean)  # 12
    comm = b.array(char, 16)  # 13
    # struct node { pid_t pid; char comm[16]; struct node *next; const volatile
    # unsigned int flags; unsigned int a:3, b:5; union { u8 x; int y; }; } (48)
    node = b.next_id
    anon = node + 2
    b.struct("node", 48, [
        ("pid", 8, 0), ("comm", comm, 32), ("next", node + 1, 192), ("flags", cv, 256),
        ("a", u32, 288, 3), ("b", u32, 291, 5), ("", anon, 320),
    ], bitfields=True)  # fmt: skip  # 14
    b.ptr(node)  # 15
    b.union("", 4, [("x", 9, 0), ("y", i32, 0)])  # 16
    b.enum("state", [("RUNNING", 0), ("STOPPED", 4), ("DEAD", -1)], signed=True)  # 17
    b.enum("mask", [("BIG", 0xFFFFFFFF)])  # 18
    b.enum64("wide", [("HUGE", 1 << 40), ("NEG", -2)], signed=True)  # 19
    proto = b.func_proto(i32, [("task", node + 1), ("len", u64), ("", 0)])  # 20 (varargs)
    b.func("do_thing", proto)  # 21
    b.ptr(proto)  # 22: function pointer
    b.typedef("handler_t", 22)  # 23
    # struct ops { handler_t fn; void *data; float f; struct fwd_only *p; } old
    # style bitfield (no kind_flag) via the int's encoding: legacy:4 at bit 128.
    b.fwd("fwd_only")  # 24
    b.ptr(24)  # 25
    b.float("double", 8)  # 26
    legacy = b.int("unsigned int", 4, bits=4)  # 27
    b.struct("ops", 24, [("fn", 23, 0), ("data", b.next_id + 1, 64), ("p", 25, 128),
                         ("legacy", legacy, 160)])  # fmt: skip  # 28
    b.ptr(0)  # 29: void *
    b.int("__int128", 16, signed=True)  # 30
    b.typedef("s128", 30)  # 31
    b.typedef("ops_t", 28)  # 32
    b.struct("node", 0, [])  # 33: an empty duplicate: the full one wins
    b.var("some_var", i32)  # 34
    b.modifier("type_tag", 15, "rcu")  # 35
    b.typedef("tagged_t", 35)  # 36
    return b


@pytest.fixture
def blob_path(tmp_path) -> str:
    path = tmp_path / "blob.btf"
    path.write_bytes(sample().build())
    return str(path)


@pytest.fixture
def btf(blob_path, tmp_path) -> KernelBTF:
    opened = KernelBTF.open(blob_path, cache_dir=str(tmp_path / "cache"))
    assert opened is not None
    return opened


def test_records_fields_bitfields_and_anonymous_members(btf: KernelBTF) -> None:
    node = btf.record("struct", "node")
    assert node is not None and node.size == 48 and node.kind == "struct"
    assert node.fields == (
        CField("pid", CInt(4, True, "pid_t"), 0),
        CField("comm", CArray(CInt(1, True, "char", is_char=True), 16), 4),
        CField("next", CPointer(CRecordRef("struct", "node")), 24),
        CField("flags", CInt(4, False, "unsigned int"), 32),
        CField("a", CInt(4, False, "unsigned int"), 36, bitfield_bits=3, bit_offset=0),
        CField("b", CInt(4, False, "unsigned int"), 36, bitfield_bits=5, bit_offset=3),
        CField("", CRecordRef("union", "", 16), 40),
    )
    inner = btf.record_by_id(16)
    assert inner is not None and inner.kind == "union" and inner.name == ""
    assert [(f.name, f.type) for f in inner.fields] == [
        ("x", CInt(1, False, "u8", is_char=True)), ("y", CInt(4, True, "int"))]  # fmt: skip
    assert btf.record("union", "node") is None
    assert btf.record("struct", "missing") is None
    assert btf.record("enum", "state") is None


def test_pointers_functions_floats_forward_declarations(btf: KernelBTF) -> None:
    ops = btf.record("struct", "ops")
    assert ops is not None
    assert [f.type for f in ops.fields] == [
        CFunctionPointer(), CPointer(CVoid()), CPointer(CRecordRef("struct", "fwd_only")),
        CInt(4, False, "unsigned int"),
    ]  # fmt: skip
    legacy = ops.field("legacy")
    assert (legacy.offset, legacy.bitfield_bits, legacy.bit_offset) == (20, 4, 0)
    assert btf.typedef("s128") == CUnsupported("__int128")
    assert btf.typedef("ops_t") == CRecordRef("struct", "ops")
    assert btf.typedef("tagged_t") == CPointer(CRecordRef("struct", "node"))
    assert btf.decoder.ctype(26) == CUnsupported("double")


def test_typedef_chains_keep_the_outer_name(btf: KernelBTF) -> None:
    assert btf.typedef("pid_t") == CInt(4, True, "pid_t")
    assert btf.typedef("__kernel_pid_t") == CInt(4, True, "__kernel_pid_t")
    assert btf.typedef("bool") == CInt(1, False, "bool", is_bool=True)
    assert btf.typedef("handler_t") == CFunctionPointer()
    assert btf.typedef("nope") is None


def test_enums_and_enumerators(btf: KernelBTF) -> None:
    state = btf.enum("state")
    assert state == CEnum("state", 4, True, (("RUNNING", 0), ("STOPPED", 4), ("DEAD", -1)))
    assert btf.enum("mask") == CEnum("mask", 4, False, (("BIG", 0xFFFFFFFF),))
    assert btf.enum("wide") == CEnum("wide", 8, True, (("HUGE", 1 << 40), ("NEG", -2)))
    assert btf.enumerator("STOPPED") == (state, 4)
    assert btf.enumerator("HUGE")[1] == 1 << 40
    assert btf.enumerator("MISSING") is None
    assert btf.decoder.ctype(17) == CEnumRef("state", 4)


def test_functions(btf: KernelBTF) -> None:
    assert btf.function("do_thing") == CFunction(
        "do_thing", CInt(4, True, "int"),
        (("task", CPointer(CRecordRef("struct", "node"))),
         ("len", CInt(8, False, "long long unsigned int"))),
    )  # fmt: skip
    assert btf.function("some_var") is None
    assert btf.names("func") == ["do_thing"]
    assert btf.names("struct") == ["node", "ops"]


def test_big_endian_blobs_decode_the_same(tmp_path) -> None:
    path = tmp_path / "be.btf"
    path.write_bytes(sample().build(">"))
    btf = KernelBTF.open(str(path), cache_dir=None)
    assert btf is not None
    assert btf.record("struct", "node").field("b").bit_offset == 3
    assert btf.enum("state").values[-1] == ("DEAD", -1)


@pytest.mark.parametrize("mangle", [
    lambda data: b"",
    lambda data: b"\x00" * 100,
    lambda data: data[:30],  # header promises more than there is
    lambda data: data[:24] + data[24:-40],  # truncated
    lambda data: data[:2] + b"\x02" + data[3:],  # version 2
    lambda data: data[:24] + data[24:28] + b"\xff\xff\xff\x7f" + data[32:],  # unknown kind
])  # fmt: skip
def test_malformed_blobs_give_none(tmp_path, mangle) -> None:
    path = tmp_path / "bad.btf"
    path.write_bytes(mangle(sample().build()))
    assert KernelBTF.open(str(path), cache_dir=str(tmp_path / "c")) is None
    facts = LiveFacts(btf_path=str(path), tracefs_root=str(tmp_path), mount=False)
    assert not facts.has_types
    assert facts.record("struct", "node") is None and facts.typedef("pid_t") is None


def test_a_missing_file_gives_none(tmp_path) -> None:
    assert KernelBTF.open(str(tmp_path / "absent"), cache_dir=None) is None


def test_damaged_type_references_do_not_raise(tmp_path) -> None:
    b = BTFBuilder()
    b.struct("broken", 8, [("p", 99, 0)])  # a member of a type that does not exist
    b.typedef("loop_a", 3)
    b.typedef("loop_b", 2)  # a typedef cycle
    path = tmp_path / "damaged.btf"
    path.write_bytes(b.build())
    btf = KernelBTF.open(str(path), cache_dir=None)
    assert btf is not None
    assert btf.record("struct", "broken") is None
    assert isinstance(btf.typedef("loop_a"), CUnsupported)


def test_the_cache_is_used_and_invalidated(tmp_path, blob_path) -> None:
    cache = str(tmp_path / "cache")
    first = KernelBTF.open(blob_path, cache_dir=cache)
    assert first is not None and not first.from_cache
    assert len(os.listdir(cache)) == 1
    second = KernelBTF.open(blob_path, cache_dir=cache)
    assert second is not None and second.from_cache
    assert second.record("struct", "node") == first.record("struct", "node")
    assert second.enumerator("DEAD") == first.enumerator("DEAD")
    # A different blob at the same path: a new identity, the cache is rebuilt.
    b = sample()
    b.struct("added", 4, [("z", 1, 0)])
    Path(blob_path).write_bytes(b.build())
    third = KernelBTF.open(blob_path, cache_dir=cache)
    assert third is not None and not third.from_cache
    assert third.record("struct", "added") is not None
    assert KernelBTF.open(blob_path, cache_dir=cache).from_cache
    assert len(os.listdir(cache)) == 1


def test_the_cache_checks_content_when_the_file_stamp_changes(tmp_path, blob_path) -> None:
    cache = str(tmp_path / "cache")
    KernelBTF.open(blob_path, cache_dir=cache)
    # Same bytes, new mtime (a reboot, for sysfs): still served from the cache.
    os.utime(blob_path, ns=(10**18, 10**18))
    assert KernelBTF.open(blob_path, cache_dir=cache).from_cache
    # Same size, different bytes, new mtime: the checksum catches it.
    data = Path(blob_path).read_bytes()
    Path(blob_path).write_bytes(data.replace(b"\0node\0", b"\0edon\0"))
    os.utime(blob_path, ns=(2 * 10**18, 2 * 10**18))
    changed = KernelBTF.open(blob_path, cache_dir=cache)
    assert not changed.from_cache
    assert changed.record("struct", "edon") is not None and changed.record("struct", "node") is None


def test_a_damaged_or_unwritable_cache_is_harmless(tmp_path, blob_path) -> None:
    cache = tmp_path / "cache"
    KernelBTF.open(blob_path, cache_dir=str(cache))
    (cache_file,) = cache.iterdir()
    cache_file.write_bytes(cache_file.read_bytes()[:-7])
    again = KernelBTF.open(blob_path, cache_dir=str(cache))
    assert again is not None and not again.from_cache and again.record("struct", "node")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert KernelBTF.open(blob_path, cache_dir=str(blocker / "sub")).record("struct", "ops")


def test_default_cache_dir_follows_xdg(tmp_path, blob_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    KernelBTF.open(blob_path)
    assert len(os.listdir(tmp_path / "xdg" / "btls")) == 1


def test_live_facts_over_a_blob(blob_path, tmp_path) -> None:
    facts = LiveFacts(btf_path=blob_path, tracefs_root=str(tmp_path), cache_dir=None, mount=False)
    assert facts.has_types
    node = facts.record("struct", "node")
    anon = node.fields[-1].type
    assert facts.record_of(anon).fields[1].name == "y"
    assert facts.record_of(CRecordRef("struct", "node")) == node
    assert facts.enumerator("RUNNING")[1] == 0
    assert facts.function("do_thing").params[0][0] == "task"
    assert list(facts.kernel_functions()) == ["do_thing"]


# -- the real kernel ----------------------------------------------------------

needs_vmlinux = pytest.mark.skipif(not os.access(VMLINUX, os.R_OK), reason="no readable vmlinux BTF")


@needs_vmlinux
def test_vmlinux_task_struct_path_and_enums(tmp_path) -> None:
    btf = KernelBTF.open(cache_dir=str(tmp_path))
    assert btf is not None
    task = btf.record("struct", "task_struct")
    assert task.field("pid").type == CInt(4, True, "pid_t")
    comm = task.field("comm").type
    assert isinstance(comm, CArray) and comm.length == 16 and comm.element.is_char
    path = btf.record("struct", "path")
    assert [f.name for f in path.fields] == ["mnt", "dentry"]
    assert path.field("dentry").type == CPointer(CRecordRef("struct", "dentry"))
    pid_type = btf.enum("pid_type")
    assert ("PIDTYPE_PID", 0) in pid_type.values
    assert btf.enumerator("PIDTYPE_PID") == (pid_type, 0)
    assert btf.function("vfs_read").params[0][0] == "file"
    assert btf.typedef("u64") == CInt(8, False, "u64")


@needs_vmlinux
def test_vmlinux_cache_serves_a_fresh_process(tmp_path) -> None:
    code = (
        "import sys; from compiler.kernel.btf import KernelBTF\n"
        "b = KernelBTF.open(cache_dir=sys.argv[1])\n"
        "t = b.record('struct', 'task_struct')\n"
        "print(b.from_cache, t.field('pid').offset, len(t.fields))\n"
    )

    def run() -> list[str]:
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                             capture_output=True, text=True, check=True)  # fmt: skip
        return out.stdout.split()

    cold, warm = run(), run()
    assert cold[0] == "False" and warm[0] == "True"
    assert cold[1:] == warm[1:]
