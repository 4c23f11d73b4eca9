/**
 * Show AST: `python -m compiler --emit ast FILE` (btc) with the Python
 * that has btls installed. No `vscode` import.
 */
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export function astCommand(python: string, file: string): { command: string; args: string[] } {
  return { command: python, args: ["-m", "compiler", "--emit", "ast", file] };
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

export function runProcess(command: string, args: string[], timeoutMs = 60_000): Promise<ProcessResult> {
  return new Promise((resolve) => {
    childProcess.execFile(
      command,
      args,
      { encoding: "utf8", timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        const result: ProcessResult = { code, stdout, stderr };
        if (error && typeof error.code === "string") result.error = `${command}: ${error.message}`;
        resolve(result);
      },
    );
  });
}

/**
 * The AST of `text`. `file` is the document's own path when its saved text
 * is what to show; otherwise the text goes to a private temporary file
 * under the document's name, removed afterwards.
 */
export async function emitAst(python: string, name: string, text: string, file?: string): Promise<ProcessResult> {
  if (file) return runProcess(...spread(astCommand(python, file)));
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "btls-ast-"));
  const copy = path.join(directory, name.endsWith(".bt") ? name : `${name}.bt`);
  try {
    fs.writeFileSync(copy, text, { mode: 0o600 });
    return await runProcess(...spread(astCommand(python, copy)));
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

function spread(command: { command: string; args: string[] }): [string, string[]] {
  return [command.command, command.args];
}

/** The error to show when btc failed. */
export function astFailure(result: ProcessResult, python: string): string | undefined {
  if (result.error) {
    return `bpftrace: Show AST could not start ${python} (${result.error}). Set btls.server.pythonPath to the Python that has btls installed.`;
  }
  if (result.code !== 0) {
    const detail = result.stderr.trim().split("\n").slice(-3).join(" | ");
    return `bpftrace: btc --emit ast failed (exit ${result.code ?? "signal"})${detail ? `: ${detail}` : ""}`;
  }
  return undefined;
}
