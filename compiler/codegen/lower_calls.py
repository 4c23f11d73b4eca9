"""Builtin calls and builtin variables to IR.

Every builtin the backend can lower has one method here or in a sibling
(lower_output.py, lower_aggregations.py), found by the builtins table's
name: `b_<name>`. `SUPPORTED` lists them, and a test checks that each is a
real entry of the table (compiler.semantic.builtins), so the table stays
the one place a builtin is declared.
"""

from __future__ import annotations

from llvmlite import ir

from ..runtime import layout
from ..semantic import builtins as B
from ..semantic import types as T
from ..syntax import ast
from .errors import CodegenError, Unsupported
from .lower_aggregations import AggregationLowering
from .lower_output import OutputLowering
from .values import I32, I64, PTR, Value, i64, opaque, timestamp_type

TASK_COMM_LEN = 16
MAX_INLINE_DEPTH = 8
# Where x86_64's struct pt_regs keeps the argument registers (di, si, dx,
# cx, r8, r9) and the return value (ax).
X86_64_ARGUMENT_OFFSETS = (112, 104, 96, 88, 72, 64)
X86_64_RETURN_OFFSET = 80
# Probes whose context starts with the saved registers (a perf event's
# bpf_perf_event_data begins with them too).
_PT_REGS_PROBES = ("kprobe", "kretprobe", "uprobe", "uretprobe", "profile", "interval", "software", "hardware")
X86_64_REGISTER_OFFSETS = {
    "r15": 0, "r14": 8, "r13": 16, "r12": 24, "bp": 32, "bx": 40, "r11": 48, "r10": 56, "r9": 64,
    "r8": 72, "ax": 80, "cx": 88, "dx": 96, "si": 104, "di": 112, "orig_rax": 120, "ip": 128,
    "pc": 128, "cs": 136, "flags": 144, "sp": 152, "ss": 160,
}  # fmt: skip


class CallLowering(OutputLowering, AggregationLowering):
    def x_Identifier(self, node: ast.Identifier) -> Value:
        if node.name == "args":
            raise Unsupported("args as a whole value is not supported by the backend yet", node)
        constant = self.unit.constant(node.name)
        if constant is not None:
            t = self.unit.type_of(node)
            return Value(t if isinstance(t, T.Int) else T.INT64, scalar=i64(constant))
        return self.builtin(node.name, node, [], statement=False)

    def x_Call(self, node: ast.Call, *, statement: bool = False) -> Value:
        function = self.unit.functions().get(node.name.text)
        if function is not None:
            return self.inline_function(function, node)
        return self.builtin(node.name.text, node, node.args, statement=statement)

    def inline_function(self, function: ast.Function, call: ast.Call) -> Value:
        """A `fn` call, lowered in place: the arguments go into the
        parameters' variables, and `return` jumps to the end with its value."""
        if len(self.inlining) >= MAX_INLINE_DEPTH or function in self.inlining:
            raise Unsupported(f"recursive fn {function.name.text} is not supported by the backend", call)
        result_type = self.unit.type_of(call)
        values = [self.expr(arg) for arg in call.args]
        for param, value in zip(function.params, values):
            symbol = self.unit.symbol_of(param.var)
            self.store_value(value, self.fn.variable_slot(symbol, symbol.type), symbol.type)
        result = None if isinstance(result_type, (T.Void, T.Unknown)) else self.fn.temp_for(result_type)
        done = self.fn.new_block(f"fn.{function.name.text}.end")
        self.inlining.append(function)
        self.returns.append((result, result_type, done))
        try:
            self.block(function.body)
        finally:
            self.returns.pop()
            self.inlining.pop()
        if not self.fn.terminated():
            self.builder.branch(done)
        self.builder.position_at_end(done)
        return self.load(result, result_type) if result is not None else Value(T.VOID, scalar=i64(0))

    def builtin(self, name: str, node, args: list, *, statement: bool) -> Value:
        entry = B.lookup(name)
        if entry is None:
            raise Unsupported(f"{name}() (a macro or fn) is not supported by the backend yet", node)
        method = getattr(self, "b_" + entry.name, None)
        if method is None:
            raise Unsupported(f"{entry.name} is not supported by the backend yet", node)
        return method(node, args)

    def helper(self, name: str, args: list, returns=I64) -> ir.Value:
        return self.unit.module.call_helper(self.builder, name, returns, args)

    # ------------------------------------------------- task and time

    def b_pid(self, node, args) -> Value:
        return Value(T.UINT32, scalar=self.builder.lshr(self.helper("get_current_pid_tgid", []), i64(32)))

    def b_tid(self, node, args) -> Value:
        return Value(T.UINT32, scalar=self.builder.and_(self.helper("get_current_pid_tgid", []), i64(0xFFFFFFFF)))

    def b_uid(self, node, args) -> Value:
        return Value(T.UINT32, scalar=self.builder.and_(self.helper("get_current_uid_gid", []), i64(0xFFFFFFFF)))

    def b_gid(self, node, args) -> Value:
        return Value(T.UINT32, scalar=self.builder.lshr(self.helper("get_current_uid_gid", []), i64(32)))

    def b_cpu(self, node, args) -> Value:
        return Value(T.UINT32, scalar=self.helper("get_smp_processor_id", []))

    def b_numaid(self, node, args) -> Value:
        return Value(T.UINT32, scalar=self.helper("get_numa_node_id", []))

    def b_rand(self, node, args) -> Value:
        return Value(T.UINT32, scalar=self.helper("get_prandom_u32", []))

    def b_cgroup(self, node, args) -> Value:
        return Value(T.UINT64, scalar=self.helper("get_current_cgroup_id", []))

    def b_curtask(self, node, args) -> Value:
        return Value(self.unit.type_of(node), scalar=self.helper("get_current_task", []))

    def b_jiffies(self, node, args) -> Value:
        return Value(T.UINT64, scalar=self.helper("jiffies64", []))

    def b_nsecs(self, node, args) -> Value:
        clock = args[0].name if args and isinstance(args[0], ast.Identifier) else "monotonic"
        helper = {"monotonic": "ktime_get_ns", "boot": "ktime_get_boot_ns", "tai": "ktime_get_tai_ns"}.get(clock)
        if helper is None:
            raise Unsupported(f"nsecs({clock}) is not supported by the backend yet", node)
        return Value(T.UINT64, scalar=self.helper(helper, []))

    def b_elapsed(self, node, args) -> Value:
        key = self.fn.temp(4)
        self.builder.store(ir.Constant(I32, 0), key)
        slot = self.helper("map_lookup_elem", [self.unit.start_time_map, key], PTR)
        start = self.fn.temp(8)
        self.builder.store(i64(0), start)
        with self.builder.if_then(self.builder.icmp_unsigned("!=", slot, ir.Constant(PTR, None))):
            self.builder.store(self.builder.load(slot, typ=I64), start)
        now = self.helper("ktime_get_ns", [])
        return Value(T.UINT64, scalar=self.builder.sub(now, self.builder.load(start, typ=I64)))

    def b_comm(self, node, args) -> Value:
        if args:
            raise Unsupported("comm() of another task is not supported by the backend yet", node)
        ptr = self.fn.temp(TASK_COMM_LEN)
        self.fn.zero(ptr, TASK_COMM_LEN)
        self.helper("get_current_comm", [ptr, i64(TASK_COMM_LEN)])
        return Value(T.String(TASK_COMM_LEN), ptr=ptr)

    # ------------------------------------------------- symbols and stacks

    def b_ksym(self, node, args) -> Value:
        return Value(T.KSYM, scalar=self.as_scalar(self.expr(args[0])))

    def b_kstack(self, node, args) -> Value:
        if args:
            raise Unsupported("kstack with a mode or limit is not supported by the backend yet", node)
        stack_id = self.helper("get_stackid", [self.fn.ctx, self.builder.bitcast(self.unit.stack_map(False), PTR), i64(0)])
        return Value(T.KSTACK, scalar=self.builder.and_(stack_id, i64(0xFFFFFFFF)))

    def b_ustack(self, node, args) -> Value:
        if args:
            raise Unsupported("ustack with a mode or limit is not supported by the backend yet", node)
        user_stack = 1 << 8  # BPF_F_USER_STACK
        stack_id = self.helper("get_stackid", [self.fn.ctx, self.builder.bitcast(self.unit.stack_map(True), PTR),
                                               i64(user_stack)])  # fmt: skip
        pid = self.builder.lshr(self.helper("get_current_pid_tgid", []), i64(32))
        pair = self.tuple_of([Value(T.UINT64, scalar=self.builder.and_(stack_id, i64(0xFFFFFFFF))),
                              Value(T.UINT64, scalar=pid)], T.Tuple((T.UINT64, T.UINT64)))  # fmt: skip
        return Value(T.USTACK, ptr=pair.ptr)

    def b_strftime(self, node, args) -> Value:
        fmt = args[0]
        if not isinstance(fmt, ast.StrLit):
            raise CodegenError("strftime()'s format must be a string literal", fmt)
        return Value(timestamp_type(fmt.value), scalar=self.as_scalar(self.expr(args[1])))

    # ---------------------------------------------- probe arguments

    def b_argN(self, node, args) -> Value:
        name = node.name if isinstance(node, ast.Identifier) else node.name.text
        index = int(name[3:])
        kind = self.fn.target.kind
        if kind in ("kprobe", "kretprobe", "uprobe", "uretprobe") and index < len(X86_64_ARGUMENT_OFFSETS):
            return self.saved_register(X86_64_ARGUMENT_OFFSETS[index])
        if kind == "rawtracepoint":
            return Value(T.UINT64, scalar=self.builder.load(self.builder.gep(self.fn.ctx, [i64(8 * index)],
                                                                            source_etype=ir.IntType(8)), typ=I64))  # fmt: skip
        raise Unsupported(f"{name} in {kind} probes is not supported by the backend yet", node)

    def b_reg(self, node, args) -> Value:
        name = args[0].value.decode()
        offset = X86_64_REGISTER_OFFSETS.get(name)
        if offset is None or self.fn.target.kind not in _PT_REGS_PROBES:
            raise Unsupported(f"reg(\"{name}\") in {self.fn.target.kind} probes is not supported by the backend yet", node)
        return self.saved_register(offset)

    def b_retval(self, node, args) -> Value:
        if self.fn.target.kind in ("kretprobe", "uretprobe"):
            return self.saved_register(X86_64_RETURN_OFFSET)
        raise Unsupported(f"retval in {self.fn.target.kind} probes is not supported by the backend yet", node)

    def saved_register(self, offset: int) -> Value:
        """A register the probe saved in its pt_regs context."""
        slot = self.builder.gep(self.fn.ctx, [i64(offset)], source_etype=ir.IntType(8))
        return Value(T.UINT64, scalar=self.builder.load(slot, typ=I64, align=8))

    def b_cpid(self, node, args) -> Value:
        return Value(T.UINT64, scalar=i64(self.unit.options.cpid))

    def b_probe(self, node, args) -> Value:
        return self.string_constant(self.fn.target.name.encode())

    # --------------------------------- writing straight into memory

    def into_Identifier(self, node: ast.Identifier, ptr: ir.Value, t: T.Type) -> bool:
        if node.name == "comm":
            return self.comm_into(ptr, t)
        return False

    def into_Call(self, node: ast.Call, ptr: ir.Value, t: T.Type) -> bool:
        name = node.name.text
        if name == "comm" and not node.args:
            return self.comm_into(ptr, t)
        if name == "str" and isinstance(t, T.String):
            self.str_into(node, ptr, t)
            return True
        return False

    def comm_into(self, ptr: ir.Value, t: T.Type) -> bool:
        if not isinstance(t, T.String) or t.length < TASK_COMM_LEN:
            return False
        # The helper pads the name with NULs to the size it is given.
        self.helper("get_current_comm", [ptr, i64(TASK_COMM_LEN)])
        if t.length > TASK_COMM_LEN:
            self.fn.zero(self.builder.gep(ptr, [i64(TASK_COMM_LEN)], source_etype=ir.IntType(8)),
                         t.length - TASK_COMM_LEN)  # fmt: skip
        return True

    # ----------------------------------------------------------- strings

    def b_str(self, node, args) -> Value:
        t = self.type_of(node)
        if isinstance(self.unit.type_of(args[0]), T.String):
            return self.expr(args[0])
        ptr = self.fn.temp(t.length)
        self.str_into(node, ptr, t)
        return Value(t, ptr=ptr)

    def str_into(self, node: ast.Call, ptr: ir.Value, t: T.String) -> None:
        """str(address[, length]) read into memory of `t.length` bytes
        (the reading stops at the first NUL; bytes after it are zero only
        if the caller zeroed them)."""
        args = node.args
        source = self.expr(args[0])
        if isinstance(source.type, T.String):
            self.store_value(source, ptr, t)
            return
        size = min(t.length, self.type_of(node).length)
        if len(args) == 2:
            limit = self.as_scalar(self.expr(args[1]))
            # Keep the length in range for the verifier: 1..size.
            limit = self.builder.add(self.builder.urem(limit, i64(size)), i64(1))
        else:
            limit = i64(size)
        helper = "probe_read_user_str" if self.user_address(source) else "probe_read_kernel_str"
        self.helper(helper, [ptr, self.builder.trunc(limit, I32), self.address(source)])

    def b_buf(self, node, args) -> Value:
        """buf(data[, length]): a u32 length, then the bytes (layout.py)."""
        t = self.type_of(node)
        # The read's length is masked (below), and the mask may exceed the
        # capacity: leave room for the largest length it lets through.
        mask = (1 << t.length.bit_length()) - 1
        ptr = self.fn.temp(4 + mask + 1)
        self.fn.zero(ptr, layout.size_of(t))
        source = self.expr(args[0])
        data = self.builder.gep(ptr, [i64(4)], source_etype=ir.IntType(8))
        if source.in_memory:  # an array: its bytes
            size = min(t.length, layout.size_of(source.type))
            self.fn.copy(data, source.ptr, size, align=4)
            self.builder.store(ir.Constant(I32, size), ptr)
            return Value(t, ptr=ptr)
        length = self.as_scalar(self.expr(args[1])) if len(args) == 2 else i64(t.length)
        # The verifier must see the bound on the very register passed to the
        # helper: hide the length from LLVM first (see values.opaque), then mask it.
        length = self.builder.select(self.builder.icmp_unsigned(">", length, i64(t.length)), i64(t.length), length)
        length = self.builder.and_(opaque(self.builder, length), i64(mask))  # keeps every length up to the capacity
        helper = "probe_read_user" if self.user_address(source) else "probe_read_kernel"
        self.helper(helper, [data, self.builder.trunc(length, I32), self.address(source)])
        self.builder.store(self.builder.trunc(length, I32), ptr)
        return Value(t, ptr=ptr)

    def user_address(self, value: Value) -> bool:
        if isinstance(value.type, T.Pointer) and value.type.user:
            return True
        return self.fn.target.user_pointers

    def address(self, value: Value) -> ir.Value:
        return self.builder.inttoptr(self.as_scalar(value), PTR)

    # --------------------------------------------------------- addresses

    def b_ntop(self, node, args) -> Value:
        t = self.type_of(node)
        family = None
        if len(args) == 2:
            family = self.as_scalar(self.expr(args[0]))
        address = self.expr(args[-1])
        size = 16 if getattr(address.type, "size", 0) == 16 or (
            isinstance(address.type, (T.Array, T.String)) and address.type.size == 16) else 4  # fmt: skip
        ptr = self.fn.temp_for(t)
        self.fn.zero(ptr, t.length)
        if family is None:
            family = i64(10 if size == 16 else 2)
        self.builder.store(self.builder.trunc(family, I32), ptr)
        body = ir.Constant(I64, 4)
        destination = self.builder.gep(ptr, [body], source_etype=ir.IntType(8))
        if address.in_memory:
            self.fn.copy(destination, address.ptr, min(size, t.length - 4), align=4)
        else:
            self.builder.store(self.builder.trunc(self.as_scalar(address), I32), destination)
        return Value(t, ptr=ptr)


def supported_builtins() -> list[str]:
    """The builtins the backend lowers, by their table names."""
    from .lower import Lowerer

    return sorted(name[2:] for name in dir(Lowerer) if name.startswith("b_"))

