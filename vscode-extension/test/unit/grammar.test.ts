/**
 * The grammar against the project: its builtins come from the compiler's
 * table, the snapshot inputs are the project's own scripts, and those
 * snapshots cover every construct of the frontend issue (issue 2).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { builtinsJson, BUILTINS, dumpBuiltins, grammarWithBuiltins, GRAMMAR, projectPython, readBuiltins } from "../../tools/builtins";
import { tokenize, Token } from "../grammar/tokenize";
import { ROOT } from "./helpers";

const SNAP = path.join(ROOT, "test", "grammar", "snap");
const PROJECT = path.resolve(ROOT, "..");

describe("grammar builtins", () => {
  it("are the compiler's builtins table (npm run update-builtins)", function () {
    const python = projectPython();
    if (!python) {
      console.log("      (no project Python: set BTLS_PYTHON; comparing with syntaxes/builtins.json only)");
      this.skip();
    }
    const fresh = builtinsJson(dumpBuiltins(python));
    assert.equal(fs.readFileSync(BUILTINS, "utf8"), fresh, "syntaxes/builtins.json is stale: run `npm run update-builtins`");
  });

  it("are the ones written into the grammar", () => {
    const text = fs.readFileSync(GRAMMAR, "utf8");
    assert.equal(text, grammarWithBuiltins(text, readBuiltins()), "the grammar is stale: run `npm run update-builtins`");
  });

  it("mark builtins, but not fields or user functions of the same name", async () => {
    const tokens = await tokenize("BEGIN { $x = args.pid + pid; printf(\"%d\", arg3); my_fn(1); }");
    const scopeOf = (text: string, nth = 0) => tokens.filter((token) => token.text === text)[nth].scopes.at(-1);
    assert.equal(scopeOf("pid", 0), "variable.other.member.bpftrace");
    assert.equal(scopeOf("pid", 1), "variable.language.bpftrace");
    assert.equal(scopeOf("printf"), "support.function.builtin.bpftrace");
    assert.equal(scopeOf("arg3"), "variable.language.bpftrace");
    assert.equal(scopeOf("my_fn"), "entity.name.function.call.bpftrace");
  });
});

/** Where each snapshot input comes from in the project. */
const SOURCES: Record<string, string> = {
  attach_kprobe: "tests/cases/syntax/ok",
  attach_label: "tests/cases/syntax/ok",
  attach_quoted: "tests/cases/syntax/ok",
  c_definitions: "tests/cases/syntax/ok",
  char_literals: "tests/cases/syntax/ok",
  fn: "tests/cases/syntax/ok",
};

function snapInputs(): string[] {
  return fs.readdirSync(SNAP).filter((name) => name.endsWith(".bt")).sort();
}

describe("grammar snapshots", () => {
  it("are made from the project's own scripts, unchanged", function () {
    if (!fs.existsSync(path.join(PROJECT, "tests", "corpus"))) this.skip();
    for (const name of snapInputs()) {
      const origin = path.join(PROJECT, SOURCES[name.replace(/\.bt$/, "")] ?? "tests/corpus", name);
      assert.ok(fs.existsSync(origin), `${name}: no ${origin}`);
      assert.equal(
        fs.readFileSync(path.join(SNAP, name), "utf8"),
        fs.readFileSync(origin, "utf8"),
        `${name} differs from ${origin}: copy it again and run npx vscode-tmgrammar-snap -u`,
      );
      assert.ok(fs.existsSync(path.join(SNAP, `${name}.snap`)), `${name} has no snapshot`);
    }
  });

  // Each construct listed in the frontend issue, where a snapshot input has
  // it: [construct, file, line text (a substring), token text, scope, nth].
  const constructs: Array<[string, string, string, string, string, number?]> = [
    ["shebang", "slow_syscalls", "#!/usr/bin/env bpftrace", "#!", "comment.line.shebang.bpftrace"],
    ["#include", "runq_wait", "#include <linux/sched.h>", "include", "keyword.control.directive.include.c"],
    ["#define", "open_flag_fingerprint", "#define ACCESS_MASK", "ACCESS_MASK", "entity.name.function.preprocessor.c"],
    ["#ifdef", "runq_wait", "#ifdef", "ifdef", "keyword.control.directive.conditional.c"],
    ["C struct", "frame_layout", "struct frame_hdr {", "frame_hdr", "entity.name.type.struct.c"],
    ["C union", "frame_layout", "union frame_addr {", "frame_addr", "entity.name.type.union.c"],
    ["C enum", "frame_layout", "enum frame_kind {", "frame_kind", "entity.name.type.enum.c"],
    ["C typedef", "c_definitions", "typedef unsigned long long u64_t;", "typedef", "storage.type.typedef.c"],
    ["C __attribute__", "frame_layout", "} __attribute__((packed));", "__attribute__", "storage.modifier.attribute.c"],
    ["config", "open_tracker", "config = {", "config", "keyword.other.config.bpftrace"],
    ["config key", "open_tracker", "max_strlen = 128", "max_strlen", "variable.other.property.config.bpftrace"],
    ["import", "read_latency_macros", 'import "lib/common.bt";', "import", "keyword.other.import.bpftrace"],
    ["macro", "read_latency_macros", "macro record_latency(", "record_latency", "entity.name.function.macro.bpftrace"],
    ["macro parameters", "read_latency_macros", "macro record_latency(", "@dist", "variable.parameter.map.bpftrace"],
    ["fn", "fn", "fn add(", "add", "entity.name.function.bpftrace"],
    ["fn return type", "fn", "fn add(", "uint64", "storage.type.bpftrace"],
    ["let @map = kind(N)", "open_tracker", "let @path = lruhash(4096);", "lruhash", "support.type.map.bpftrace"],
    ["attach point provider", "open_tracker", "tracepoint:syscalls:sys_enter_open,", "tracepoint", "storage.type.probe.bpftrace"],
    ["attach point target", "open_tracker", "tracepoint:syscalls:sys_enter_open,", "syscalls", "entity.name.namespace.probe.bpftrace"],
    ["attach point function", "open_tracker", "tracepoint:syscalls:sys_enter_open,", "sys_enter_open", "entity.name.function.probe.bpftrace"],
    ["several attach points", "open_tracker", "tracepoint:syscalls:sys_enter_open,", ",", "punctuation.separator.attach-points.bpftrace"],
    ["wildcard", "named_probes", "sys_enter_*", "*", "keyword.operator.wildcard.bpftrace"],
    ["named probe (name=)", "named_probes", "enter_any=", "enter_any", "entity.name.label.probe.bpftrace"],
    ["$1 in an attach point", "py_calls", "usdt:$1:python:function__entry", "$1", "variable.parameter.positional.bpftrace"],
    ["attach point offset", "attach_kprobe", "kprobe:tcp_sendmsg+8", "8", "constant.numeric.offset.bpftrace"],
    ["attach point path", "frame_layout", "uprobe:/usr/local/bin/gatewayd:handle_frame", "/usr/local/bin/gatewayd", "string.unquoted.path.bpftrace"],
    ["quoted attach point part", "attach_quoted", 'uprobe:"/opt/my app":main', '"', "string.quoted.double.attach-point.bpftrace"],
    ["BEGIN", "slow_syscalls", "BEGIN", "BEGIN", "storage.type.probe.bpftrace"],
    ["lowercase begin", "open_tracker", "begin", "begin", "storage.type.probe.bpftrace"],
    ["predicate", "slow_syscalls", "/@enabled/", "/", "punctuation.definition.predicate.begin.bpftrace"],
    ["predicate over lines", "comment_placement", "/ /* only real users */", "/", "punctuation.definition.predicate.begin.bpftrace"],
    ["assignment", "slow_syscalls", "@warn_ns = 100ms;", "=", "keyword.operator.assignment.bpftrace"],
    ["compound assignment", "open_flag_fingerprint", "$h <<= 5;", "<<=", "keyword.operator.assignment.compound.bpftrace"],
    ["post-increment", "loop_forms", "$live++;", "++", "keyword.operator.increment-decrement.bpftrace"],
    ["pre-decrement", "loop_forms", "--$spins;", "--", "keyword.operator.increment-decrement.bpftrace"],
    ["if / else if / else", "fork_rate", "} else if (@forks == 0) {", "else", "keyword.control.bpftrace"],
    ["if without parentheses", "runq_wait", "if $since {", "if", "keyword.control.bpftrace"],
    ["while", "loop_forms", "while ($countdown > 0) {", "while", "keyword.control.bpftrace"],
    ["for over a map", "loop_forms", "for ($kv : @per_cpu) {", ":", "punctuation.separator.for.bpftrace"],
    ["for over a range", "loop_forms", "for ($k : 1..$n) {", "..", "keyword.operator.range.bpftrace"],
    ["for without parentheses", "fork_rate", "for $i : 0..$bar {", "for", "keyword.control.bpftrace"],
    ["unroll", "loop_forms", "unroll(5) {", "unroll", "keyword.control.bpftrace"],
    ["break", "loop_forms", "break;", "break", "keyword.control.bpftrace"],
    ["continue", "loop_forms", "continue;", "continue", "keyword.control.bpftrace"],
    ["return", "open_tracker", "return;", "return", "keyword.control.bpftrace"],
    ["let $x: type = e", "mutex_wait", "let $waited: uint64 = 0;", "uint64", "storage.type.bpftrace"],
    ["let $x;", "mutex_wait", "let $bucket;", "let", "keyword.other.let.bpftrace"],
    ["delete", "open_tracker", "delete(@path, tid);", "delete", "support.function.builtin.bpftrace"],
    ["block statement", "mutex_wait", "$bucket = {", "{", "meta.block.bpftrace meta.block.bpftrace punctuation.section.block.begin.bracket.curly.bpftrace"],
    ["ternary", "open_tracker", "$fd = $ret >= 0 ? $ret : -1;", "?", "keyword.operator.ternary.bpftrace"],
    ["logical operators", "open_flag_fingerprint", "$writes = $access == 1 || $access == 2;", "||", "keyword.operator.logical.bpftrace"],
    ["bitwise operators", "open_flag_fingerprint", "$odd_bits = $flags ^ FLAG_CLOEXEC & ~FLAG_CLOEXEC;", "~", "keyword.operator.bitwise.bpftrace"],
    ["shift operators", "open_flag_fingerprint", "$weight = 1 + $access * 4", ">>", "keyword.operator.bitwise.bpftrace"],
    ["cast to an integer", "open_flag_fingerprint", "$flags = (uint64)args.flags;", "uint64", "meta.cast.bpftrace storage.type.bpftrace"],
    ["cast to a struct pointer", "frame_layout", "$hdr = (struct frame_hdr *)arg0;", "*", "meta.cast.bpftrace keyword.operator.pointer.bpftrace"],
    ["cast to an array", "ipv4_bytes", "$octets = (uint8[4])$daddr;", "[", "meta.cast.bpftrace punctuation.definition.brackets.bpftrace"],
    ["cast to an enum", "frame_layout", "$kind = (enum frame_kind)$hdr->kind;", "frame_kind", "entity.name.type.enum.bpftrace"],
    ["field access with .", "frame_layout", "@dst_ports[$hdr.ports.dst]", "ports", "variable.other.member.bpftrace"],
    ["field access with ->", "frame_layout", "$kind = (enum frame_kind)$hdr->kind;", "->", "punctuation.accessor.bpftrace"],
    ["index []", "ipv4_bytes", "@first_octet[$octets[0]]", "[", "punctuation.definition.brackets.begin.bpftrace"],
    ["tuple .N", "exit_codes", "$summary.0", "0", "variable.other.member.bpftrace"],
    ["tuple (x,)", "exit_codes", "print((1,));", ",", "punctuation.separator.delimiter.bpftrace"],
    ["record (a=1, b=2)", "kill_watch", "$info = (sig=$sig", "=", "keyword.operator.assignment.bpftrace", 1],
    ["builtin call", "open_tracker", "clear(@path);", "clear", "support.function.builtin.bpftrace"],
    ["builtin call with parentheses of a variable builtin", "read_latency_macros", "bump($seen, @readers, comm());", "comm", "variable.language.bpftrace"],
    ["builtin without parentheses", "open_tracker", "if (name_filter == \"\" || comm == name_filter) {", "comm", "variable.language.bpftrace"],
    ["user macro call", "read_latency_macros", "record_latency($lat, @shell_read_us", "record_latency", "entity.name.function.call.bpftrace"],
    ["map with two keys", "open_flag_fingerprint", "@interesting[comm, $flags] = count();", "@interesting", "variable.other.map.bpftrace"],
    ["anonymous map @", "fork_rate", "@forks++;", "@forks", "variable.other.map.bpftrace"],
    ["scratch variable", "open_tracker", "$ret = args.ret;", "$ret", "variable.other.scratch.bpftrace"],
    ["$1", "malloc_sizes", '/pid == $1/', "$1", "variable.parameter.positional.bpftrace"],
    ["$#", "malloc_sizes", "if ($# < 1) {", "$#", "variable.parameter.positional.bpftrace"],
    ["args", "open_tracker", "$ret = args.ret;", "args", "variable.language.bpftrace"],
    ["argN", "malloc_sizes", "@pow2 = hist(arg0);", "arg0", "variable.language.bpftrace"],
    ["retval", "malloc_sizes", "if (retval == 0) {", "retval", "variable.language.bpftrace"],
    ["sizeof", "frame_layout", "sizeof(struct frame_hdr),", "sizeof", "keyword.operator.sizeof.bpftrace"],
    ["offsetof", "frame_layout", "offsetof(struct frame_hdr, ports),", "offsetof", "keyword.operator.offsetof.bpftrace"],
    ["address of &$v", "loop_forms", "$sum_ptr = &$sum;", "&", "keyword.operator.bitwise.bpftrace"],
    ["dereference *p", "loop_forms", "$sum = *$sum_ptr + $spins;", "*", "keyword.operator.arithmetic.bpftrace"],
    ["block expression", "mutex_wait", "let $us = $waited / 1000;", "let", "meta.block.bpftrace meta.block.bpftrace keyword.other.let.bpftrace"],
    ["integer with _", "slow_syscalls", "@max_events = 1_000_000;", "1_000_000", "constant.numeric.decimal.bpftrace"],
    ["hex", "slow_syscalls", "@id_mask = 0x1F;", "0x1F", "constant.numeric.hex.bpftrace"],
    ["octal", "slow_syscalls", "@perm_bits = 0777;", "0777", "constant.numeric.octal.bpftrace"],
    ["exponent", "slow_syscalls", "@scale = 1e6;", "1e6", "constant.numeric.decimal.bpftrace"],
    ["integer suffix", "slow_syscalls", "@budget = 10ul;", "ul", "keyword.other.unit.suffix.integer.bpftrace"],
    ["duration", "slow_syscalls", "@warn_ns = 100ms;", "ms", "keyword.other.unit.suffix.duration.bpftrace"],
    ["string", "slow_syscalls", 'printf("default file mode %o\\n", @perm_bits);', '"', "string.quoted.double.bpftrace punctuation.definition.string.begin.bpftrace"],
    ["escape \\t", "slow_syscalls", 'printf("thresholds:\\twarn', "\\t", "constant.character.escape.bpftrace"],
    ["escape \\\"", "slow_syscalls", 'printf("quote \\" backslash', '\\"', "constant.character.escape.bpftrace"],
    ["escape \\\\", "slow_syscalls", 'printf("quote \\" backslash', "\\\\", "constant.character.escape.bpftrace"],
    ["octal escape", "slow_syscalls", 'printf("quote \\" backslash', "\\101", "constant.character.escape.bpftrace"],
    ["hex escape", "slow_syscalls", 'printf("quote \\" backslash', "\\x41", "constant.character.escape.bpftrace"],
    ["printf conversion", "slow_syscalls", 'printf("default file mode %o\\n", @perm_bits);', "%o", "constant.other.placeholder.bpftrace"],
    ["char", "char_literals", "$a = 'a';", "a", "string.quoted.single.bpftrace"],
    ["char escape", "char_literals", "$c = '\\'';", "\\'", "constant.character.escape.bpftrace"],
    ["true/false", "slow_syscalls", "@verbose = false;", "false", "constant.language.boolean.bpftrace"],
    ["line comment", "comment_placement", "// trailing comment", "//", "comment.line.double-slash.bpftrace"],
    ["block comment", "comment_placement", "BEGIN /* header */ {", "/*", "comment.block.bpftrace"],
  ];

  const cache = new Map<string, Token[]>();
  async function tokensOf(file: string): Promise<Token[]> {
    if (!cache.has(file)) cache.set(file, await tokenize(fs.readFileSync(path.join(SNAP, `${file}.bt`), "utf8")));
    return cache.get(file) as Token[];
  }

  for (const [construct, file, lineText, tokenText, scope, nth] of constructs) {
    it(`cover ${construct} (${file}.bt)`, async () => {
      assert.ok(fs.existsSync(path.join(SNAP, `${file}.bt`)), `${file}.bt is not a snapshot input`);
      const source = fs.readFileSync(path.join(SNAP, `${file}.bt`), "utf8").split("\n");
      const line = source.findIndex((text) => text.includes(lineText));
      assert.ok(line >= 0, `no line of ${file}.bt holds ${JSON.stringify(lineText)}`);
      const matching = (await tokensOf(file)).filter((token) => token.line === line && token.text === tokenText);
      const token = matching[nth ?? 0];
      assert.ok(token, `line ${line + 1} of ${file}.bt has no token ${JSON.stringify(tokenText)}`);
      assert.ok(token.scopes.join(" ").includes(scope), `${JSON.stringify(tokenText)} is ${token.scopes.join(" ")}, not ${scope}`);
    });
  }
});
