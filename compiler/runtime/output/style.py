"""Where bpftrace versions print differently: every such difference is one
field of `Style`, and `BPFTRACE_0_17` sets them all as the reference
bpftrace (Debian's 0.17) prints, measured against it (see the goldens in
tests/runtime/golden/). A style for modern bpftrace is another instance of
this class; each field's comment says what HEAD does instead, where we know
it (from src/output/*.cpp and src/types_format.cpp at HEAD).

Nothing outside this module may test the bpftrace version; formatters read
the fields below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# bpftrace 0.17's printf conversion, as its regex finds them: an optional
# '-', a width (whose leading 0 is C's zero-padding flag), a precision, then
# one of its known conversions. Nothing else is a conversion: '%%', '%+d'
# and '%10r' stay in the literal text (and go to C's printf from there).
PRINTF_0_17 = (
    r"%(?P<flags>-?)(?P<width>[0-9]*)(?:\.(?P<precision>[0-9]+))?"
    r"(?P<conversion>rx|rh|r|s|c|(?:hh|h|ll|l|j|z|t)?[duoxXp])"
)


@dataclass(frozen=True)
class Style:
    name: str

    # --- messages
    # "Attaching 1 probe..." on stdout. HEAD: "Attached 1 probe" on stderr.
    attach_message: str = "Attaching {count} {probes}..."
    attach_message_on_stderr: bool = False

    # --- plain values
    # 0.17 has no bool type (comparisons are int64): 1 and 0. HEAD: true/false.
    bools_as_ints: bool = True
    # 0.17 prints a pointer map value as a signed decimal (keys are hex).
    # HEAD: 0x... everywhere.
    pointer_values_in_decimal: bool = True
    # HEAD appends ".." to a string that fills its whole buffer (no NUL).
    string_truncation_trailer: str = ""
    # HEAD prints an enum value's name (0.22+); 0.17 prints the integer.
    enum_names: bool = False

    # --- map keys
    # 0.17 widens integer keys to 64 bits and prints them as int64, so
    # (uint64)-1 prints as -1. HEAD prints them per their type.
    int_keys_as_int64: bool = True
    # 0.17 sorts integer keys as unsigned 64-bit numbers (-1 after 5).
    # HEAD compares them signed.
    int_keys_sort_unsigned: bool = True
    # 0.17 prints a record inside a key without spaces: {.a=1,.b=x}.
    # HEAD: as a value, { .a = 1, .b = x }.
    compact_record_keys: bool = True
    # Stack frames are indented by 4 in keys and 8 in values (both versions).
    key_stack_indent: int = 4
    value_stack_indent: int = 8

    # --- map printing
    # 0.17: "@st: count 3, average 9, total 27" and an empty line after every
    # avg/stats map. HEAD: stats values are records "{ .count = 3, ... }" and
    # no extra empty line.
    stats_as_record: bool = False
    blank_line_after_stats_maps: bool = True
    # 0.17's print(@m, top, div) applies top and div to an avg map but
    # ignores both for a stats map. HEAD applies them to both.
    print_args_apply_to_stats: bool = False
    # Ties in the sort of hist, lhist, avg and stats maps keep the order of
    # the keys' bytes, as 0.17's std::map of entries has them (@h[256]
    # before @h[1]: little-endian). HEAD: not checked.
    aggregate_ties_in_key_byte_order: bool = True
    # 0.17 sorts min and max maps by signed value; HEAD compares them as
    # unsigned 64-bit numbers.
    min_max_sort_unsigned: bool = False
    # 0.17 joins the entries of a map whose values are ksym, usym, inet,
    # kstack or ustack with nothing between them (a 0.17 bug:
    # "@k[1]: do_exit@k[2]: vfs_read"). HEAD puts each on its own line.
    symbol_maps_unseparated: bool = True
    # 0.17 prints an empty map as an empty line (two for avg/stats) in text
    # mode, also at exit. HEAD leaves empty maps out.
    print_empty_maps: bool = True
    # Printed before the maps at exit, in both text and JSON mode (0.17).
    exit_preamble: str = "\n\n"

    # --- histograms
    # 0.17 writes "@h: " (a trailing space) above a histogram. HEAD: "@h:".
    hist_header_trailing_space: bool = True
    # Suffixes for powers of 1024 in hist labels. 0.17 stops at T (2^50 is
    # "1024T"); HEAD goes on to P and E.
    hist_suffixes: str = "KMGT"
    # lhist labels use K/M suffixes: 0.17 for any boundary that is a multiple
    # of 1024; HEAD only when the step is a multiple of 1024.
    lhist_suffix_needs_step_multiple: bool = False

    # --- printf
    printf_spec_pattern: str = PRINTF_0_17
    # 0.17 copies the text after the last conversion (or a whole format
    # without conversions) verbatim, so a "%%" there prints "%%". Text before
    # a conversion goes through C's printf, where "%%" is "%". HEAD: "%" always.
    printf_verbatim_tail: bool = True

    # --- JSON
    # 0.17 separates histogram buckets with ", "; HEAD with ",".
    json_hist_bucket_separator: str = ", "
    # 0.17 computes log2 bucket bounds in C int: [2G, 4G) comes out as
    # {"min": -2147483648, "max": 0}. HEAD uses 64-bit bounds.
    json_hist_int32_bounds: bool = True
    # 0.17 escapes each byte >= 0x80 as a negative char: "\uffffffc3".
    # HEAD writes UTF-8 through.
    json_escape_high_bytes_as_negative: bool = True
    # Special types whose JSON value is a quoted string in 0.17; the others
    # (timestamp, macaddr_t, cgroup_path_t, strerror_t) are written bare.
    json_quoted_specials: frozenset = frozenset(
        {"ksym_t", "usym_t", "username_t", "kstack", "ustack", "probe"}
    )

    def printf_spec_regex(self) -> re.Pattern:
        return re.compile(self.printf_spec_pattern)


BPFTRACE_0_17 = Style(name="bpftrace 0.17")

DEFAULT_STYLE = BPFTRACE_0_17
