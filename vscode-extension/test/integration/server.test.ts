/**
 * The extension's side of the protocol against the REAL btls server: the
 * same launch command and initializationOptions the extension builds (from
 * the manifest's defaults), over stdio, with VS Code's answers to the
 * server's requests. Needs the project's Python ($BTLS_PYTHON, else
 * ../.venv/bin/python); the run part needs root.
 */
import * as assert from "node:assert/strict";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  createProtocolConnection,
  Diagnostic,
  InitializeResult,
  ProtocolConnection,
  PublishDiagnosticsParams,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-languageserver-protocol/node";
import { ConfigurationReader, initializationOptions, readSettings, serverLaunch } from "../../src/config";
import { OUTPUT_NOTIFICATION, ServerCommands } from "../../src/ids";
import { isRunEnd, OutputParams } from "../../src/output";
import { projectPython } from "../../tools/builtins";

const ROOT = path.resolve(__dirname, "..", "..", "..");
/* eslint-disable @typescript-eslint/no-explicit-any */
const manifest: any = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const defaults: Record<string, unknown> = Object.fromEntries(
  Object.entries(manifest.contributes.configuration.properties as Record<string, { default: unknown }>).map(([key, value]) => [
    key,
    value.default,
  ]),
);

/** The `btls` section as VS Code answers workspace/configuration: nested objects. */
function configurationSection(values: Record<string, unknown>): Record<string, unknown> {
  const section: Record<string, any> = {};
  for (const [key, value] of Object.entries(values)) {
    const parts = key.split(".").slice(1);
    let node = section;
    for (const part of parts.slice(0, -1)) node = node[part] ??= {};
    node[parts[parts.length - 1]] = value;
  }
  return section;
}

const TICK = 'interval:ms:100 { printf("tick\\n"); exit(); }\n';
const FOREVER = 'interval:ms:50 { @ticks = count(); printf("tick\\n"); }\n';
const BROKEN = "BEGIN { $x = ; printf(\"%d\\n\", $x); }\nkprobe:vfs_read { @reads[comm] = cuont(); }\n";

describe("the real btls server, as the extension starts it", function () {
  this.timeout(120_000);
  const python = projectPython();
  let server: childProcess.ChildProcess | undefined;
  let connection: ProtocolConnection;
  let initialized: InitializeResult;
  let directory: string;
  const diagnostics = new Map<string, Diagnostic[]>();
  const outputs: OutputParams[] = [];
  const shown: string[] = [];
  const waiters: Array<() => void> = [];
  let stderr = "";

  const poke = () => waiters.splice(0).forEach((wake) => wake());
  async function until<T>(what: string, check: () => T | undefined, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; server stderr:\n${stderr}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  function open(name: string, text: string): string {
    const file = path.join(directory, name);
    fs.writeFileSync(file, text);
    const uri = `file://${file}`;
    void connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "bpftrace", version: 1, text } });
    return uri;
  }

  before(async function () {
    if (!python) {
      console.log("      skipped: no project Python (set BTLS_PYTHON, or create ../.venv with scripts/install.sh)");
      this.skip();
    }
    directory = fs.mkdtempSync(path.join(os.tmpdir(), "btls-lsp-"));
    const values: Record<string, unknown> = { ...defaults, "btls.server.pythonPath": python };
    const reader: ConfigurationReader = { get: <T>(key: string) => values[`btls.${key}`] as T };
    const settings = readSettings(reader);
    const launch = serverLaunch(settings);
    assert.deepEqual(launch, { command: python, args: ["-m", "btls"] });
    server = childProcess.spawn(launch.command, launch.args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    server.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    await new Promise<void>((resolve, reject) => {
      server!.once("spawn", resolve);
      server!.once("error", (failure) => reject(new Error(`${launch.command} ${launch.args.join(" ")} did not start: ${failure}`)));
    });
    connection = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
    connection.onNotification("textDocument/publishDiagnostics", (params: PublishDiagnosticsParams) => {
      diagnostics.set(params.uri, params.diagnostics);
      poke();
    });
    connection.onNotification(OUTPUT_NOTIFICATION, (params: OutputParams) => {
      outputs.push(params);
      poke();
    });
    connection.onNotification("window/showMessage", (params: { message: string }) => {
      shown.push(params.message);
    });
    connection.onNotification("window/logMessage", () => undefined);
    connection.onNotification("$/progress", () => undefined);
    connection.onRequest("workspace/configuration", (params: { items: Array<{ section?: string }> }) =>
      params.items.map((item) => (item.section === "btls" ? configurationSection(defaults) : null)),
    );
    connection.onRequest("window/workDoneProgress/create", () => null);
    connection.onRequest("client/registerCapability", () => null);
    connection.listen();
    initialized = await connection.sendRequest("initialize", {
      processId: process.pid,
      clientInfo: { name: "Visual Studio Code", version: "1.91.0" },
      rootUri: `file://${directory}`,
      workspaceFolders: [{ uri: `file://${directory}`, name: "work" }],
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true }, workspaceFolders: true },
        window: { workDoneProgress: true, showMessage: {} },
        textDocument: {
          publishDiagnostics: { relatedInformation: true },
          synchronization: { dynamicRegistration: true, didSave: true },
          codeLens: {},
        },
        general: { positionEncodings: ["utf-16"] },
      },
      initializationOptions: initializationOptions(settings, true),
    });
    await connection.sendNotification("initialized", {});
  });

  after(async () => {
    if (connection && server?.exitCode === null) {
      try {
        await connection.sendRequest("shutdown");
        await connection.sendNotification("exit");
      } catch {
        // the server is gone already
      }
    }
    connection?.dispose();
    if (server && server.exitCode === null) server.kill();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });

  it("offers the run commands the extension wires", () => {
    const commands = initialized.capabilities.executeCommandProvider?.commands ?? [];
    assert.ok(commands.includes(ServerCommands.run), `commands: ${commands}`);
    assert.ok(commands.includes(ServerCommands.stop), `commands: ${commands}`);
    assert.equal(initialized.capabilities.codeLensProvider !== undefined, true);
  });

  it("has the manifest's defaults as its own", () => {
    const script =
      "import json; from btls.settings import Settings as S; s = S(); print(json.dumps({'btls.debounceMs': s.debounce_ms, " +
      "'btls.kernelFacts': s.kernel_facts, 'btls.completionLimit': s.completion_limit, 'btls.inlayHints.types': s.type_hints, " +
      "'btls.inlayHints.parameters': s.parameter_hints, 'btls.run.privilege': s.run_privilege}))";
    const serverDefaults = JSON.parse(childProcess.execFileSync(python!, ["-c", script], { cwd: ROOT, encoding: "utf8" }));
    for (const [key, value] of Object.entries(serverDefaults)) assert.deepEqual(defaults[key], value, key);
  });

  it("publishes diagnostics for a broken file", async () => {
    const uri = open("broken.bt", BROKEN);
    const found = await until("diagnostics of broken.bt", () => {
      const list = diagnostics.get(uri);
      return list && list.some((item) => item.severity === 1) ? list : undefined;
    });
    const messages = found.map((item) => `${item.range.start.line}: ${item.message}`);
    assert.ok(found.some((item) => item.range.start.line === 0), messages.join("\n"));
    assert.ok(found.some((item) => item.range.start.line === 1 && /cuont/.test(String(item.message))), messages.join("\n"));
  });

  it("refuses to run a file with errors, with the diagnostics", async () => {
    const uri = `file://${path.join(directory, "broken.bt")}`;
    const result: any = await connection.sendRequest("workspace/executeCommand", { command: ServerCommands.run, arguments: [{ uri }] });
    assert.equal(result.started, false);
    assert.equal(result.reason, "errors");
    assert.ok(Array.isArray(result.diagnostics) && result.diagnostics.length > 0);
  });

  it("formats a document (what Format runs: editor.action.formatDocument)", async () => {
    assert.ok(initialized.capabilities.documentFormattingProvider, "no documentFormattingProvider");
    const uri = open("messy.bt", "BEGIN{printf(\"hi\\n\");   exit();}\n");
    const edits: Array<{ newText: string }> | null = await connection.sendRequest("textDocument/formatting", {
      textDocument: { uri },
      options: { tabSize: 4, insertSpaces: true },
    });
    assert.ok(edits && edits.length > 0, `edits: ${JSON.stringify(edits)}`);
  });

  it("runs a script and streams its output as btls/output", async function () {
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
      console.log("      skipped: running a BPF program needs root (this test runs as root in CI)");
      this.skip();
    }
    const uri = open("tick.bt", TICK);
    await until("diagnostics of tick.bt", () => diagnostics.get(uri));
    const result: any = await connection.sendRequest("workspace/executeCommand", { command: ServerCommands.run, arguments: [{ uri }] });
    assert.equal(result.started, true, `btls.run answered ${JSON.stringify(result)}; messages: ${shown.join(" | ")}`);
    assert.equal(typeof result.runId, "number");
    const end = await until("the end of the run", () => outputs.find((item) => item.runId === result.runId && isRunEnd(item)));
    const mine = outputs.filter((item) => item.runId === result.runId);
    const stdout = mine.filter((item) => item.stream === "stdout").map((item) => item.text).join("");
    assert.equal(mine[0].stream, "status");
    assert.equal(mine[0].uri, uri);
    assert.match(stdout, /^tick$/m, `output: ${JSON.stringify(mine)}`);
    assert.equal(end.exitCode, 0, `output: ${JSON.stringify(mine)}`);
  });

  it("stops a run with btls.stop: the maps print, then the closing line", async function () {
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
      console.log("      skipped: running a BPF program needs root (this test runs as root in CI)");
      this.skip();
    }
    const uri = open("forever.bt", FOREVER);
    const result: any = await connection.sendRequest("workspace/executeCommand", { command: ServerCommands.run, arguments: [{ uri }] });
    assert.equal(result.started, true, `btls.run answered ${JSON.stringify(result)}; messages: ${shown.join(" | ")}`);
    const mine = () => outputs.filter((item) => item.runId === result.runId);
    await until("the first tick", () => (mine().some((item) => item.stream === "stdout" && /tick/.test(item.text)) ? true : undefined));
    const stopped: any = await connection.sendRequest("workspace/executeCommand", {
      command: ServerCommands.stop,
      arguments: [{ runId: result.runId }],
    });
    assert.deepEqual(stopped, { stopped: true, runId: result.runId });
    const end = await until("the end of the stopped run", () => mine().find(isRunEnd));
    const stdout = mine().filter((item) => item.stream === "stdout").map((item) => item.text).join("");
    assert.match(stdout, /@ticks: \d+/, `output: ${JSON.stringify(mine())}`);
    assert.ok(end.exitCode === 0 || end.signal === "SIGINT", `ended: ${JSON.stringify(end)}`);
  });
});
