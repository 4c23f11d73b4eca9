/**
 * The grammar's builtin lists come from the compiler's builtins table
 * (compiler/semantic/builtins), dumped by scripts/dump_builtins.py into
 * syntaxes/builtins.json, then written into the grammar's
 * `builtin-functions` and `builtin-variables` rules.
 *
 *   node out/tools/builtins.js          check: exit 1 when either file is stale
 *   node out/tools/builtins.js --write  regenerate both files
 *
 * (`npm run update-builtins` compiles and writes.) The Python used is
 * $BTLS_PYTHON, else the project's ../.venv/bin/python.
 */
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const GRAMMAR = path.join(ROOT, "syntaxes", "bpftrace.tmLanguage.json");
export const BUILTINS = path.join(ROOT, "syntaxes", "builtins.json");
const DUMP = path.join(ROOT, "scripts", "dump_builtins.py");

export interface Builtins {
  functions: string[];
  variables: string[];
}

/** The interpreter that has the project installed, or undefined. */
export function projectPython(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.BTLS_PYTHON) {
    return env.BTLS_PYTHON;
  }
  const venv = path.join(ROOT, "..", ".venv", "bin", "python");
  return fs.existsSync(venv) ? venv : undefined;
}

/** The builtins table as the project's Python reports it now. */
export function dumpBuiltins(python: string): Builtins {
  const text = childProcess.execFileSync(python, [DUMP], {
    cwd: path.join(ROOT, ".."),
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: path.join(ROOT, "..") },
  });
  return JSON.parse(text) as Builtins;
}

export function readBuiltins(): Builtins {
  return JSON.parse(fs.readFileSync(BUILTINS, "utf8")) as Builtins;
}

export function builtinsJson(builtins: Builtins): string {
  return JSON.stringify(builtins, null, 2) + "\n";
}

/** A name as a regex: `argN` stands for arg0, arg1, ... */
function namePattern(name: string): string {
  if (/^[a-z]+N$/.test(name)) {
    return name.slice(0, -1) + "[0-9]+";
  }
  return name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The regex of one builtin rule: whole words, never after `.` or `->` (fields). */
export function builtinRegex(names: string[]): string {
  return "(?<![.$@]|->)\\b(?:" + [...names].sort().map(namePattern).join("|") + ")\\b";
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Grammar = { repository: Record<string, any> };

/** The grammar's text with its builtin rules made from `builtins`. */
export function grammarWithBuiltins(grammarText: string, builtins: Builtins): string {
  const grammar = JSON.parse(grammarText) as Grammar;
  grammar.repository["builtin-functions"].match = builtinRegex(builtins.functions);
  grammar.repository["builtin-variables"].match = builtinRegex(builtins.variables);
  return JSON.stringify(grammar, null, 2) + "\n";
}

function main(argv: string[]): number {
  const write = argv.includes("--write");
  const python = projectPython();
  let builtins: Builtins;
  if (python) {
    builtins = dumpBuiltins(python);
  } else if (write) {
    console.error("builtins: no project Python (set BTLS_PYTHON or create ../.venv)");
    return 2;
  } else {
    console.error("builtins: no project Python; checking the grammar against syntaxes/builtins.json only");
    builtins = readBuiltins();
  }
  const wanted = builtinsJson(builtins);
  const grammar = grammarWithBuiltins(fs.readFileSync(GRAMMAR, "utf8"), builtins);
  if (write) {
    fs.writeFileSync(BUILTINS, wanted);
    fs.writeFileSync(GRAMMAR, grammar);
    console.log(`builtins: ${builtins.functions.length} functions, ${builtins.variables.length} variables written`);
    return 0;
  }
  const stale = [];
  if (fs.readFileSync(BUILTINS, "utf8") !== wanted) stale.push(BUILTINS);
  if (fs.readFileSync(GRAMMAR, "utf8") !== grammar) stale.push(GRAMMAR);
  if (stale.length) {
    console.error(`builtins: stale: ${stale.join(", ")}; run npm run update-builtins`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
