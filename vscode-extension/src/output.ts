/**
 * The run stream: `btls/output` notifications → text for the output
 * channel. No `vscode` import.
 *
 *   {uri, runId, text, stream: "stdout" | "stderr" | "status", exitCode?, signal?}
 *
 * `text` holds whole lines (a piece without a line break only when the
 * program pauses mid-line or ends). A `status` line opens each run
 * (`[btls] run 1: btc x.bt`) and one closes it (`[btls] run 1 ended: ...`,
 * with `exitCode` and `signal`).
 */

export type Stream = "stdout" | "stderr" | "status";

export interface OutputParams {
  uri: string;
  runId: number;
  text: string;
  stream: Stream;
  exitCode?: number | null;
  signal?: string | null;
}

export function isOutputParams(value: unknown): value is OutputParams {
  if (typeof value !== "object" || value === null) return false;
  const params = value as Record<string, unknown>;
  return (
    typeof params.text === "string" &&
    typeof params.runId === "number" &&
    (params.stream === "stdout" || params.stream === "stderr" || params.stream === "status")
  );
}

/** Whether this notification is the one that closes its run. */
export function isRunEnd(params: OutputParams): boolean {
  return params.stream === "status" && ("exitCode" in params || "signal" in params);
}

/**
 * Turns notifications into channel text. stdout and stderr are kept as the
 * program wrote them (bpftrace output is meant to be read raw); when the
 * stream changes while a line is unfinished, the new piece starts on a
 * line of its own, and so does every status line. `\r\n` becomes `\n`.
 */
export class OutputFormatter {
  private midLine = false;
  private lastStream: Stream | undefined;

  format(params: OutputParams): string {
    let text = params.text.replace(/\r\n/g, "\n");
    if (text === "") return "";
    let prefix = "";
    if (this.midLine && (params.stream === "status" || params.stream !== this.lastStream)) {
      prefix = "\n";
    }
    if (params.stream === "status" && !text.endsWith("\n")) {
      text += "\n";
    }
    this.midLine = !text.endsWith("\n");
    this.lastStream = params.stream;
    return prefix + text;
  }

  reset(): void {
    this.midLine = false;
    this.lastStream = undefined;
  }
}
