"""Addresses, symbols and pointers: IP and MAC addresses, kernel and user
symbols, registers, address spaces, cgroups and socket helpers."""

from __future__ import annotations

import re
import socket

from .. import types as T
from .schema import ASYNC, COMPILE_TIME, UNSAFE, CallInfo, Param, Signature, function

# Program types that are BPF_PROG_TYPE_TRACING at HEAD.
TRACING = ("fentry", "fexit", "iter", "rawtracepoint")
# Probes whose context holds the saved registers.
REGISTERS = (
    "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt",
    "profile", "interval", "software", "hardware", "watchpoint", "asyncwatchpoint",
)  # fmt: skip
USER_PROBES = ("uprobe", "uretprobe", "usdt")
SYMBOL = re.compile(r"[a-zA-Z0-9./_-]+\Z")
SYMBOL_PATTERN = "^[a-zA-Z0-9./_-]+$"

# Any array gets through, so that _ntop_rule can say what size it wants; a
# char[4] or char[16] field is a string, and bpftrace takes those too.
ADDRESS = Param(
    "addr", ("int", "array", "string[4]", "string[16]"), doc="an IPv4 integer, or 4 or 16 bytes",
    wanted="an integer or a 4-byte array or a 16-byte array", label="int|uint8[4]|uint8[16]",
)  # fmt: skip
FAMILY = Param("af", ("int",), doc="AF_INET (2) or AF_INET6 (10)")
CODE_ADDRESS = Param("addr", ("int", "pointer"), doc="an instruction or function address")
SYMBOL_NAME = Param("name", ("string",), literal=True, doc="a symbol name")
ADDRESS_TEXT = Param("addr", ("string",), literal=True, doc='an address: "10.0.0.1" or "::1"')
MAC = Param("mac", ("array", "int", "pointer", "string"), doc="at least 6 bytes")
REGISTER = Param("name", ("string",), literal=True, doc='a register name, e.g. "ip" or "sp"')
CGROUP_DIR = Param("path", ("string",), literal=True, doc="a cgroup v2 directory")


def _ntop_rule(call: CallInfo):
    addr = call.args[-1].type
    if isinstance(addr, T.Array) and addr.size not in (4, 16):
        return "ntop() argument must be 4 or 16 bytes in size"
    return T.Inet()


def _pton_rule(call: CallInfo):
    value = call.args[0].value
    if not isinstance(value, bytes):
        return "pton() expects an string literal at the first argument"
    text = value.decode("utf-8", "replace")
    if "." in text:
        family, size = socket.AF_INET, 4
    elif ":" in text:
        family, size = socket.AF_INET6, 16
    else:
        return f"pton() expects an string argument of an IPv4/IPv6 address, got {text}"
    try:
        socket.inet_pton(family, text)
    except (OSError, ValueError):
        return f"pton() expects a valid IPv4/IPv6 address, got {text}"
    return T.Array(T.UINT8, size)


def _macaddr_rule(call: CallInfo):
    arg = call.args[0]
    if isinstance(arg.type, T.String) and isinstance(arg.value, bytes):
        return "macaddr() does not support literal string arguments"
    if isinstance(arg.type, (T.Array, T.String)) and arg.type.size < 6:
        return "macaddr() argument must be at least 6 bytes in size"
    return T.MACADDR


def _uaddr_rule(call: CallInfo):
    value = call.args[0].value
    if isinstance(value, bytes) and not SYMBOL.match(value.decode("utf-8", "replace")):
        return (f"uaddr() expects a string that is a valid symbol ({SYMBOL_PATTERN}) as input "
                f'("{value.decode("utf-8", "replace")}" provided)')
    # The pointee's width follows the ELF symbol's size, which needs the binary.
    return T.Pointer(T.UNKNOWN, user=True)


def _address_space_rule(user: bool):
    def rule(call: CallInfo):
        arg = call.args[0].type
        return T.Pointer(arg.target, user) if isinstance(arg, T.Pointer) else arg

    return rule


# The saved registers of x86_64's pt_regs, by the names reg() takes; "pc" is
# the portable name for "ip".
X86_64_REGISTERS = frozenset(
    "r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_rax ip pc cs flags sp ss".split()
)


def _reg_rule(call: CallInfo):
    name = call.args[0].value
    if isinstance(name, bytes):
        text = name.decode("utf-8", "replace")
        if text not in X86_64_REGISTERS:
            return f"'{text}' is not a valid register on this architecture (x86_64)"
    return T.UINT64


def _bswap_rule(call: CallInfo):
    arg = T.as_integer(call.args[0].type)
    if isinstance(arg, T.Int):
        return T.Int(arg.bits, False)
    if T.is_unknown(arg):
        return T.UNKNOWN
    return f"bswap() only supports integer arguments ({arg} provided)"


def _socket_cookie_rule(call: CallInfo):
    arg = call.args[0].type
    if isinstance(arg, T.Pointer) and isinstance(arg.target, (T.CRecord, T.Unknown)):
        if T.is_unknown(arg.target) or (arg.target.kind, arg.target.name) == ("struct", "sock"):
            return T.UINT64
        return f"socket_cookie() only supports 'struct sock *' as the argument ('{arg}' provided)"
    if T.is_unknown(arg):
        return T.UINT64
    return f"socket_cookie() only supports 'struct sock *' as the argument ({arg} provided)"


def _container_of_rule(call: CallInfo):
    container = call.args[1].type
    return T.UNKNOWN if T.is_unknown(container) else T.Pointer(container)


BUILTINS = [
    function(
        "ntop",
        Signature((ADDRESS,), _ntop_rule),
        Signature((FAMILY, ADDRESS), _ntop_rule),
        doc="""An IP address as a value that prints as text with `%s`. An integer
or 4 bytes mean IPv4 and 16 bytes mean IPv6, unless the address family
(`AF_INET`, `AF_INET6`) is given first.

```
kprobe:tcp_connect { $sk = (struct sock *)arg0; printf("%s\\n", ntop($sk.__sk_common.skc_daddr)); }
```""",
    ),
    function(
        "pton",
        Signature((ADDRESS_TEXT,), _pton_rule),
        flags={COMPILE_TIME},
        doc="""The bytes of an IPv4 or IPv6 address written as text, in network
order: `uint8[4]` when it contains a `.`, `uint8[16]` when it contains a
`:`. The literal is converted at compile time.

```
kprobe:tcp_connect /((struct sock *)arg0).__sk_common.skc_daddr == (uint32)pton("127.0.0.1")/ { @loopback = count(); }
```""",
    ),
    function(
        "macaddr",
        Signature((MAC,), _macaddr_rule),
        doc="""A MAC address read from the first 6 bytes of `mac`, which prints
as `AA:BB:CC:DD:EE:FF` with `%s`. Arrays must hold at least 6 bytes (exactly
6 before 0.22); string literals are not accepted.

```
fentry:arp_create { printf("to %s\\n", macaddr(args.dest_hw)); }
```""",
    ),
    function(
        "ksym",
        Signature((CODE_ADDRESS,), T.KSYM),
        flags={ASYNC},
        doc="""The kernel function that contains `addr`, looked up in user space;
print it with `%s`.

```
kprobe:do_nanosleep { printf("%s\\n", ksym(reg("ip"))); }
```""",
    ),
    function(
        "usym",
        Signature((CODE_ADDRESS,), T.USYM),
        flags={ASYNC},
        doc="""The user-space function that contains `addr` in the current
process, looked up in user space. Meant for uprobes and uretprobes; the
process must still run when the event is handled (or symbols be cached per
pid).

```
uprobe:/bin/bash:readline { printf("%s\\n", usym(reg("ip"))); }
```""",
    ),
    function(
        "kaddr",
        Signature((SYMBOL_NAME,), T.UINT64),
        flags={COMPILE_TIME},
        doc="""The address of a kernel symbol, as listed in `/proc/kallsyms`,
resolved at compile time.

```
interval:s:1 { printf("load: %d\\n", *(uint64 *)kaddr("avenrun") >> 11); }
```""",
    ),
    function(
        "uaddr",
        Signature((SYMBOL_NAME,), _uaddr_rule),
        providers=USER_PROBES,
        flags={COMPILE_TIME},
        doc="""A pointer to a symbol of the traced binary, resolved at compile
time; its target is an integer as wide as the symbol (1, 2, 4 or else 8
bytes). Since 0.25 it accounts for where PIE binaries and libraries are
loaded.

```
uprobe:/bin/bash:readline { printf("PS1: %s\\n", str(*uaddr("ps1_prompt"))); }
```""",
    ),
    function(
        "percpu_kaddr",
        Signature((SYMBOL_NAME,), T.UINT64),
        Signature((SYMBOL_NAME, Param("cpu", ("int",), doc="which CPU's copy")), T.UINT64),
        since="0.22",
        doc="""The address of a per-CPU kernel variable on the current CPU, or
on `cpu` (0.22+). With `cpu` the result may be 0, so test it before use.

```
interval:s:1 { $rq = (struct rq *)percpu_kaddr("runqueues", 0); if ($rq != 0) { print($rq.nr_running); } }
```""",
    ),
    function(
        "reg",
        Signature((REGISTER,), _reg_rule),
        providers=REGISTERS,
        provider_hint="only probes with saved registers have them",
        doc="""The value of a register saved when the probe fired. Valid names
depend on the architecture (x86_64: `ip`, `sp`, `ax`, `di`, ...). After
0.26.1 (unreleased), `"pc"` names the instruction pointer on every one.

```
kprobe:do_nanosleep { printf("%s\\n", ksym(reg("ip"))); }
```""",
    ),
    function(
        "kptr",
        Signature((Param("ptr", ("int", "pointer")),), _address_space_rule(False)),
        doc="""The same pointer, marked as pointing into kernel memory, so reads
through it use the kernel helpers.

```
uprobe:/bin/app:f { printf("%d\\n", *kptr((uint64 *)arg0)); }
```""",
    ),
    function(
        "uptr",
        Signature((Param("ptr", ("int", "pointer")),), _address_space_rule(True)),
        doc="""The same pointer, marked as pointing into user memory, so reads
through it use the user helpers.

```
kprobe:do_sys_openat2 { printf("%s\\n", str(uptr(arg1))); }
```""",
    ),
    function(
        "cgroupid",
        Signature((CGROUP_DIR,), T.UINT64),
        flags={COMPILE_TIME},
        doc="""The id of the cgroup v2 directory at `path`, read at compile time;
compare it with `cgroup`.

```
tracepoint:syscalls:sys_enter_openat /cgroup == cgroupid("/sys/fs/cgroup/user.slice")/ { @[comm] = count(); }
```""",
    ),
    function(
        "cgroup_path",
        Signature((Param("id", ("int",), doc="a cgroup id"),), T.CGROUP_PATH),
        Signature(
            (Param("id", ("int",), doc="a cgroup id"),
             Param("filter", ("string",), doc="a wildcard on the hierarchy names")),
            T.CGROUP_PATH,
        ),
        flags={ASYNC},
        doc="""The path of a cgroup, found in user space under `/sys/fs/cgroup`
when the value is printed, so it can only be printed. The optional filter
picks hierarchies by name (`unified` is cgroup v2).

```
tracepoint:syscalls:sys_enter_openat { printf("%s\\n", cgroup_path(cgroup, "unified")); }
```""",
    ),
    function(
        "bswap",
        Signature((Param("n", ("int",), doc="an integer"),), _bswap_rule),
        doc="""`n` with its bytes in reverse order, as an unsigned integer of the
same width (8-bit values come back unchanged).

```
kprobe:tcp_connect { $sk = (struct sock *)arg0; printf("port %d\\n", bswap($sk.__sk_common.skc_dport)); }
```""",
    ),
    function(
        "skboutput",
        Signature(
            (Param("file", ("string",), literal=True, doc="the pcap file to write"),
             Param("skb", ("pointer",), doc="a `struct sk_buff *`"),
             Param("length", ("int",), doc="how many bytes to capture"),
             Param("offset", ("int",), doc="where to start, e.g. 14 to skip the Ethernet header")),
            T.UINT32,
        ),
        providers=TRACING,
        doc="""Append `length` bytes of a packet, from `offset`, to a pcap file
(raw IP framing). It returns 0 on success or a negative error. Needs kernel
5.5+ and a BTF-based probe.

```
fentry:napi_gro_receive { @errors[skboutput("rx.pcap", args.skb, args.skb.len, 0)] = count(); }
```""",
    ),
    function(
        "socket_cookie",
        Signature((Param("sk", ("any",), doc="a `struct sock *`"),), _socket_cookie_rule),
        providers=TRACING,
        since="0.24",
        doc="""The kernel's unique cookie for a socket, created on first use;
0 for a NULL socket (0.24+).

```
fentry:tcp_rcv_established { @bytes[socket_cookie(args.sk)] = sum(args.skb.len); }
```""",
    ),
    function(
        "is_err",
        Signature((Param("ptr", ("pointer", "int"), doc="a kernel pointer"),), T.BOOL),
        since="0.26",
        doc="""Whether a pointer is really an encoded kernel error (`ERR_PTR`,
from -4095 to -1), like the kernel's `IS_ERR()` (0.26+).

```
fexit:do_filp_open { if (is_err(retval)) { printf("open failed: %d\\n", (int64)retval); } }
```""",
    ),
    function(
        "container_of",
        Signature(
            (Param("ptr", ("pointer",), doc="a pointer to a member"),
             Param("type", ("type",), doc="the containing type"),
             Param("member", ("ident",), doc="the member's name")),
            _container_of_rule,
        ),
        since="0.27",
        doc="""A pointer to the `type` that contains the member `ptr` points at,
like the kernel macro; pass the type with `typeof(...)`. New after 0.26.1 (not yet in a release).

```
struct Foo { int m; int n; }
uprobe:./app:n_func { $foo = container_of((int *)arg0, typeof(struct Foo), n); print(*$foo); }
```""",
    ),
    function(
        "write_user",
        Signature(
            (Param("dst", ("pointer", "int"), doc="an address in the current process"),
             Param("src", ("any",), doc="the value or buffer to copy"),
             Param("len", ("int",), doc="how many bytes")),
            T.BOOL,
        ),
        flags={UNSAFE},
        since="0.26",
        doc="""Copy `len` bytes from `src` into the current process's memory at
`dst`, returning whether it worked (0.26+). It needs `--unsafe` and can
break the traced program; the kernel logs a warning when it is used.

```
tracepoint:syscalls:sys_enter_openat /comm == "app"/ { $p = "/tmp/x\\0"; write_user(args.filename, $p, 7); }
```""",
    ),
]
