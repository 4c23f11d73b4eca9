"""Loops over maps, and len(@map): both are bpf_for_each_map_elem with a
callback, a static function the kernel calls once per key. Mixed into the
Lowerer.

The loop body becomes the callback. It sees the probe's variables through
its context argument, an array of pointers to their memory, so it reads
and writes the very variables the probe does. `break` stops the walk
(the callback returns 1), `continue` goes on to the next key (0).
"""

from __future__ import annotations

from llvmlite import ir

from ..runtime import layout
from ..semantic import types as T
from ..syntax import ast
from .errors import Unsupported
from .function import FunctionContext, Loop
from .values import I64, PTR, Value, byte_ptr, i64

# A callback's own stack: the kernel counts the caller's and the
# callback's frames together against 512 bytes.
CALLBACK_STACK_BUDGET = 96


class LoopLowering:
    def for_over_map(self, stmt: ast.For) -> None:
        planned = self.planned_map(stmt.iterable)
        loop_symbol = self.unit.symbol_of(stmt.var)
        shared = [s for s in _body_variables(self.unit, stmt.body) if s is not loop_symbol]
        b = self.builder
        context = self.fn.temp(max(8, 8 * len(shared)))
        for index, symbol in enumerate(shared):
            b.store(self.fn.variable_slot(symbol, symbol.type), byte_ptr(b, context, 8 * index))

        line = self.unit.analysis.source.lines.line_col(stmt.span.start)[0]
        callback = self.unit.module.add_callback(f"btls_p{self.fn.index}_loop{self.unit.next_callback()}", line=line)
        inner = FunctionContext(self.unit, callback, self.fn.index, self.fn.target)
        inner.locate_all(stmt)
        inner.stack_budget = CALLBACK_STACK_BUDGET
        inner.scratch_used = self.fn.scratch_used  # its scratch comes after ours
        context_arg = callback.args[3]
        for index, symbol in enumerate(shared):
            slot = inner.entry_builder.load(byte_ptr(inner.entry_builder, context_arg, 8 * index), typ=PTR)
            inner.variables[symbol] = slot
        element = self.unit.type_of(stmt.var)
        pair = inner.temp_for(element)
        inner.variables[loop_symbol] = pair
        self._fill_pair(inner, planned, element, pair, callback.args[1], callback.args[2])

        stop = callback.append_basic_block("loop.stop")
        ir.IRBuilder(stop).ret(i64(1))
        next_key = callback.append_basic_block("loop.next")
        ir.IRBuilder(next_key).ret(i64(0))
        from .lower import Lowerer  # the body is lowered like any other code

        body = Lowerer(inner)
        body.loop_body(stmt.body, Loop(next_key, stop))
        inner.finish()
        self.fn.scratch_used = max(self.fn.scratch_used, inner.scratch_used)
        function = self.builder.bitcast(callback, PTR)
        self.helper("for_each_map_elem", [self.builder.bitcast(planned.global_, PTR), function, context, i64(0)])

    def _fill_pair(self, inner: FunctionContext, planned, element: T.Type, pair, key_ptr, value_ptr) -> None:
        """$kv: (key, value), copied from the kernel's pointers to them."""
        b = inner.init_builder
        info = planned.info
        types = layout.elements(element)
        offsets, size = layout.struct_layout(types)
        self.unit.memset(b, pair, 0, size)
        key_size = min(layout.size_of(types[0]), info.key_size)
        self.unit.memcpy(b, byte_ptr(b, pair, offsets[0]), key_ptr, key_size, layout.align_of(types[0]))
        value_size = min(layout.size_of(types[1]), 8 if info.aggregation else info.value_size)
        self.unit.memcpy(b, byte_ptr(b, pair, offsets[1]), value_ptr, value_size, layout.align_of(types[1]))

    def b_len(self, node, args) -> Value:
        target = args[0]
        if not isinstance(target, ast.MapRef):
            raise Unsupported("len() of a stack is not supported by the backend yet", node)
        planned = self.planned_map(target)
        counter = self.fn.temp(8)
        self.builder.store(i64(0), counter)
        callback = self.unit.counting_callback()
        self.helper("for_each_map_elem", [self.builder.bitcast(planned.global_, PTR),
                                          self.builder.bitcast(callback, PTR), counter, i64(0)])  # fmt: skip
        return Value(T.INT64, scalar=self.builder.load(counter, typ=I64))


def _body_variables(unit, body: ast.Block) -> list:
    """The symbols of the variables a loop body reads or writes, in order."""
    seen: dict = {}
    for node in ast.walk(body):
        if isinstance(node, ast.Variable):
            symbol = unit.symbol_of(node)
            if symbol is not None and symbol.type is not None:
                seen.setdefault(id(symbol), symbol)
    return list(seen.values())
