/**
 * Which run is active, from `btls.run` answers and `btls/output`
 * notifications. No `vscode` import.
 *
 * The server sends the opening status line before it answers `btls.run`,
 * so either can come first; a run whose closing line has been seen is
 * never made active again by a late answer.
 */
import { isRunEnd, OutputParams } from "./output";

export interface RunInfo {
  runId: number;
  uri: string;
  /** The script's base name, when the server said it. */
  file?: string;
  /** "probe 2 (interval:ms:100, line 5)" for a single probe. */
  probe?: string;
}

/** The `btls.run` answer. */
export interface RunResult {
  started: boolean;
  runId?: number;
  progressToken?: string;
  pid?: number;
  file?: string;
  probe?: string | null;
  reason?: string;
  message?: string;
}

export function isRunResult(value: unknown): value is RunResult {
  return typeof value === "object" && value !== null && typeof (value as RunResult).started === "boolean";
}

function baseName(uri: string): string {
  const path = uri.replace(/[?#].*$/, "");
  const name = path.slice(path.lastIndexOf("/") + 1);
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

export class RunTracker {
  private current: RunInfo | undefined;
  private readonly ended = new Set<number>();
  private readonly listeners: Array<(active: RunInfo | undefined) => void> = [];

  get active(): RunInfo | undefined {
    return this.current;
  }

  onDidChange(listener: (active: RunInfo | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** The answer to `btls.run [{uri, ...}]`. */
  started(result: unknown, uri: string): RunInfo | undefined {
    if (!isRunResult(result) || !result.started || typeof result.runId !== "number") return undefined;
    if (this.ended.has(result.runId)) return undefined;
    const info: RunInfo = { runId: result.runId, uri, file: result.file ?? baseName(uri) };
    if (result.probe) info.probe = result.probe;
    if (this.current?.runId === result.runId) {
      info.file = result.file ?? this.current.file;
    }
    this.set(info);
    return info;
  }

  /** A `btls/output` notification. */
  output(params: OutputParams): void {
    if (isRunEnd(params)) {
      this.ended.add(params.runId);
      if (this.current?.runId === params.runId) this.set(undefined);
      return;
    }
    if (this.ended.has(params.runId) || this.current?.runId === params.runId) return;
    // Output of a run this client did not start (or whose answer is not in
    // yet): it is the server's one active run.
    this.set({ runId: params.runId, uri: params.uri, file: baseName(params.uri) });
  }

  /** The server went away: nothing runs any more. */
  clear(): void {
    if (this.current) {
      this.ended.add(this.current.runId);
      this.set(undefined);
    }
  }

  /** The arguments of `btls.stop`. */
  stopArguments(): [{ runId?: number }] {
    return [this.current ? { runId: this.current.runId } : {}];
  }

  private set(info: RunInfo | undefined): void {
    this.current = info;
    for (const listener of this.listeners) listener(info);
  }
}

/** The status bar text and tooltip for the active run. */
export function statusBarText(info: RunInfo): { text: string; tooltip: string } {
  const what = info.probe ? `${info.file}, ${info.probe}` : info.file ?? baseName(info.uri);
  return {
    text: `$(debug-stop) btc ${info.file ?? baseName(info.uri)}`,
    tooltip: `bpftrace: run ${info.runId} of ${what} is active. Click to stop it (SIGINT: the maps print).`,
  };
}

/** A short message for a `btls.stop` answer, when the user should see one. */
export function stopMessage(result: unknown): string | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const answer = result as { stopped?: boolean; message?: string };
  if (answer.stopped === false) return answer.message ?? "bpftrace: no run is active";
  return undefined;
}
