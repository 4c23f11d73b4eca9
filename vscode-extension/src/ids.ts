/**
 * Command ids. The client's own commands use the `bpftrace.` prefix: the
 * language client registers a VS Code command for every id the server lists
 * in `executeCommandProvider` (`btls.run`, `btls.stop`, `btls.verify`), and
 * registering one of those ids again fails ("command already exists").
 */
export const CLIENT_ID = "btls";
export const CONFIG_SECTION = "btls";
export const LANGUAGE_ID = "bpftrace";

export const Commands = {
  runFile: "bpftrace.runFile",
  runFileWithArgs: "bpftrace.runFileWithArgs",
  runProbe: "bpftrace.runProbe",
  stop: "bpftrace.stop",
  verify: "bpftrace.verify",
  format: "bpftrace.format",
  showAst: "bpftrace.showAst",
  showOutput: "bpftrace.showOutput",
  restartServer: "bpftrace.restartServer",
} as const;

/** The server's commands (workspace/executeCommand). */
export const ServerCommands = {
  run: "btls.run",
  stop: "btls.stop",
  verify: "btls.verify",
} as const;

/** The server's run output notification. */
export const OUTPUT_NOTIFICATION = "btls/output";

/** The context key that is true while a run is active (menus, palette). */
export const RUNNING_CONTEXT = "bpftrace.running";
