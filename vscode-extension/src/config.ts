/**
 * Settings (the `btls.*` configuration section) → how to start the server
 * and the initializationOptions it gets. No `vscode` import: unit-tested
 * directly.
 */
import * as fs from "node:fs";

export type Privilege = "auto" | "none" | "sudo" | "pkexec";
const PRIVILEGES: readonly Privilege[] = ["auto", "none", "sudo", "pkexec"];

/** What `vscode.workspace.getConfiguration("btls")` offers. */
export interface ConfigurationReader {
  get<T>(key: string): T | undefined;
}

export interface Settings {
  serverCommand: string[];
  pythonPath: string;
  runPrivilege: Privilege;
  revealOutput: boolean;
  /** The server's own settings, passed through when set. */
  debounceMs?: number;
  kernelFacts?: string;
  completionLimit?: number;
  inlayHints: { types?: boolean; parameters?: boolean };
}

export const DEFAULT_PYTHON = "python3";

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string" && item.trim() !== "") : [];
}

function optional<T>(value: unknown, type: "number" | "string" | "boolean"): T | undefined {
  if (typeof value !== type) return undefined;
  if (type === "string" && (value as string).trim() === "") return undefined;
  if (type === "number" && !Number.isFinite(value as number)) return undefined;
  return value as T;
}

export function readSettings(config: ConfigurationReader): Settings {
  const privilege = config.get<string>("run.privilege");
  return {
    serverCommand: stringList(config.get("server.command")),
    pythonPath: (config.get<string>("server.pythonPath") ?? "").trim(),
    runPrivilege: PRIVILEGES.includes(privilege as Privilege) ? (privilege as Privilege) : "auto",
    revealOutput: config.get<boolean>("run.revealOutput") ?? true,
    debounceMs: optional<number>(config.get("debounceMs"), "number"),
    kernelFacts: optional<string>(config.get("kernelFacts"), "string"),
    completionLimit: optional<number>(config.get("completionLimit"), "number"),
    inlayHints: {
      types: optional<boolean>(config.get("inlayHints.types"), "boolean"),
      parameters: optional<boolean>(config.get("inlayHints.parameters"), "boolean"),
    },
  };
}

export interface ServerLaunch {
  command: string;
  args: string[];
}

/**
 * The server's command line: `btls.server.command` when set, else
 * `PYTHON -m btls` with `btls.server.pythonPath` (default `python3`).
 */
export function serverLaunch(settings: Settings): ServerLaunch {
  if (settings.serverCommand.length > 0) {
    const [command, ...args] = settings.serverCommand;
    return { command, args };
  }
  return { command: settings.pythonPath || DEFAULT_PYTHON, args: ["-m", "btls"] };
}

/** The interpreter named by a script's `#!` line, when it is a Python. */
export function shebangPython(firstLine: string): string | undefined {
  const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine);
  if (!match) return undefined;
  const [, program, argument] = match;
  if (/(^|\/)python[0-9.]*$/.test(program)) return program;
  if (/(^|\/)env$/.test(program) && argument && /^python[0-9.]*$/.test(argument)) return argument;
  return undefined;
}

function readFirstLine(path: string): string | undefined {
  try {
    const descriptor = fs.openSync(path, "r");
    try {
      const buffer = Buffer.alloc(512);
      const length = fs.readSync(descriptor, buffer, 0, buffer.length, 0);
      return buffer.subarray(0, length).toString("utf8").split("\n", 1)[0];
    } finally {
      fs.closeSync(descriptor);
    }
  } catch {
    return undefined;
  }
}

/**
 * The Python that has btls (and so btc, `python -m compiler`) installed:
 * `btls.server.pythonPath`; else the interpreter of `btls.server.command`
 * (`PY -m btls ...`, or the `#!` line of a console script such as
 * `.venv/bin/btls`); else `python3`.
 */
export function projectPython(settings: Settings, firstLine: (path: string) => string | undefined = readFirstLine): string {
  if (settings.pythonPath) return settings.pythonPath;
  const command = settings.serverCommand;
  if (command.length >= 3 && command[1] === "-m" && command[2] === "btls") return command[0];
  if (command.length > 0) {
    const line = firstLine(command[0]);
    const python = line === undefined ? undefined : shebangPython(line);
    if (python) return python;
  }
  return DEFAULT_PYTHON;
}

export interface BtlsInitializationOptions {
  btls: {
    debounceMs?: number;
    kernelFacts?: string;
    completionLimit?: number;
    inlayHints?: { types?: boolean; parameters?: boolean };
    run: { privilege: Privilege };
    outputNotification: true;
    trusted: boolean;
  };
}

/**
 * What the server gets in `initialize`: the settings it knows, plus
 * `outputNotification: true` (this client shows `btls/output`) and
 * `trusted` (an untrusted workspace runs nothing; the server lets later
 * settings take trust away, never give it back).
 */
export function initializationOptions(settings: Settings, trusted: boolean): BtlsInitializationOptions {
  const btls: BtlsInitializationOptions["btls"] = {
    run: { privilege: settings.runPrivilege },
    outputNotification: true,
    trusted,
  };
  if (settings.debounceMs !== undefined) btls.debounceMs = settings.debounceMs;
  if (settings.kernelFacts !== undefined) btls.kernelFacts = settings.kernelFacts;
  if (settings.completionLimit !== undefined) btls.completionLimit = settings.completionLimit;
  const hints: { types?: boolean; parameters?: boolean } = {};
  if (settings.inlayHints.types !== undefined) hints.types = settings.inlayHints.types;
  if (settings.inlayHints.parameters !== undefined) hints.parameters = settings.inlayHints.parameters;
  if (Object.keys(hints).length > 0) btls.inlayHints = hints;
  return { btls };
}

/** Settings whose change needs a new server process. */
export const RESTART_SETTINGS = ["btls.server.command", "btls.server.pythonPath"];

/**
 * Program arguments ($1, $2, ...) typed in one line: split at blanks,
 * with '...' and "..." quoting and backslash escapes as in a shell.
 */
export function splitArguments(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | undefined;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quote) {
      if (char === quote) {
        quote = undefined;
      } else if (char === "\\" && quote === '"' && index + 1 < line.length && '"\\$`'.includes(line[index + 1])) {
        word += line[++index];
      } else {
        word += char;
      }
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === "\\" && index + 1 < line.length) {
      word += line[++index];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
