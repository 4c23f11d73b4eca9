/**
 * extension.ts against the stubbed `vscode` and language client (setup.ts):
 * how the client is built, the commands, the run stream and the status bar,
 * and what an untrusted workspace may do.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { activate, deactivate, UNTRUSTED_MESSAGE } from "../../src/extension";
import { Commands, RUNNING_CONTEXT, ServerCommands } from "../../src/ids";
import { LanguageClient } from "./stubs/languageclient";
import * as vscode from "./stubs/vscode";
import { manifest, manifestDefaults, ROOT } from "./helpers";

const URI = "file:///work/tick.bt";
const TEXT = 'interval:ms:100 { printf("tick\\n"); exit(); }\n';

interface Context {
  subscriptions: Array<{ dispose(): void }>;
  extensionPath: string;
}

let context: Context;


function openEditor(uri = URI, text = TEXT, line = 0, languageId = "bpftrace"): vscode.FakeDocument {
  const document = vscode.fakeDocument(uri, text, languageId);
  vscode.state.textDocuments.push(document);
  vscode.state.activeTextEditor = { document, selection: { active: { line, character: 0 } } };
  return document;
}

function client(index = -1): LanguageClient {
  const instances = LanguageClient.instances;
  return instances[index < 0 ? instances.length + index : index];
}

function executed(command: string): Array<{ method: string; params: { command: string; arguments: unknown[] } }> {
  return client().requests.filter((request) => request.method === "workspace/executeCommand" && request.params.command === command);
}

async function start(config: Record<string, unknown> = {}): Promise<void> {
  vscode.state.config = { ...manifestDefaults(), ...config };
  context = { subscriptions: [], extensionPath: ROOT };
  await activate(context as never);
}

beforeEach(() => {
  vscode.resetState();
  LanguageClient.reset();
});

afterEach(async () => {
  await deactivate();
  for (const subscription of context?.subscriptions ?? []) subscription.dispose();
});

describe("activation", () => {
  it("starts btls over stdio with the settings as initializationOptions", async () => {
    await start();
    assert.equal(LanguageClient.instances.length, 1);
    const built = client();
    assert.equal(built.id, "btls");
    assert.deepEqual(built.serverOptions.command, "python3");
    assert.deepEqual(built.serverOptions.args, ["-m", "btls"]);
    assert.equal(built.serverOptions.transport, 0);
    assert.equal(built.serverOptions.options.cwd, ROOT, "never the workspace: python -m imports from its cwd");
    assert.deepEqual(built.clientOptions.documentSelector, [
      { scheme: "file", language: "bpftrace" },
      { scheme: "untitled", language: "bpftrace" },
    ]);
    assert.deepEqual(built.clientOptions.initializationOptions, {
      btls: {
        debounceMs: 150,
        kernelFacts: "live",
        completionLimit: 200,
        inlayHints: { types: true, parameters: true },
        run: { privilege: "auto" },
        outputNotification: true,
        trusted: true,
      },
    });
    assert.deepEqual(built.clientOptions.synchronize, { configurationSection: "btls" });
    assert.ok(built.notificationHandlers.has("btls/output"));
    assert.equal(built.isRunning(), true);
  });

  it("runs the configured server command", async () => {
    await start({ "btls.server.command": ["/opt/btls/.venv/bin/btls"], "btls.run.privilege": "pkexec" });
    assert.equal(client().serverOptions.command, "/opt/btls/.venv/bin/btls");
    assert.deepEqual(client().serverOptions.args, []);
    assert.deepEqual(client().clientOptions.initializationOptions.btls.run, { privilege: "pkexec" });
  });

  it("registers every contributed command, none with a server command's id", async () => {
    LanguageClient.serverCommands = ["btls.run", "btls.stop", "btls.verify"];
    await start();
    const contributed = (manifest.contributes.commands as Array<{ command: string }>).map((item) => item.command).sort();
    assert.deepEqual([...vscode.state.commands.keys()].sort(), contributed);
    for (const id of Object.values(ServerCommands)) {
      assert.ok(!vscode.state.commands.has(id), `${id} is the server's: the language client registers it`);
    }
  });

  it("says so when the server cannot start", async () => {
    LanguageClient.startFailure = new Error("spawn python3 ENOENT");
    await start();
    const error = vscode.state.messages.find((item) => item.kind === "error");
    assert.match(error?.text ?? "", /did not start \(python3 -m btls\).*ENOENT.*btls\.server\.command/);
  });

  it("restarts the server when its command changes", async () => {
    await start();
    vscode.changeConfiguration({ "btls.server.pythonPath": "/v/bin/python" });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(LanguageClient.instances.length, 2);
    assert.equal(client(0).isRunning(), false);
    assert.equal(client().serverOptions.command, "/v/bin/python");
  });

  it("does not restart for settings the server takes live", async () => {
    await start();
    vscode.changeConfiguration({ "btls.debounceMs": 10 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(LanguageClient.instances.length, 1);
  });
});

describe("running", () => {
  beforeEach(() => {
    LanguageClient.respond = (command) =>
      command === ServerCommands.run
        ? { started: true, runId: 1, progressToken: "btls-run-1", pid: 4242, file: "tick.bt", probe: null }
        : command === ServerCommands.stop
          ? { stopped: true, runId: 1 }
          : null;
  });

  it("Run File sends btls.run for the active document and shows the run", async () => {
    await start();
    openEditor();
    const result = await vscode.commands.executeCommand(Commands.runFile);
    assert.deepEqual(executed(ServerCommands.run).map((request) => request.params.arguments), [[{ uri: URI }]]);
    assert.equal((result as { runId: number }).runId, 1);
    const item = vscode.state.statusItems[0];
    assert.equal(item.visible, true);
    assert.equal(item.text, "$(debug-stop) btc tick.bt");
    assert.equal(item.command, Commands.stop);
    assert.equal(vscode.state.context.get(RUNNING_CONTEXT), true);
    const channel = vscode.state.channels.find((item) => item.name === "bpftrace Run");
    assert.ok(channel && channel.shown > 0, "the run output is revealed");
  });

  it("streams btls/output into the channel and hides the status bar when the run ends", async () => {
    await start();
    openEditor();
    await vscode.commands.executeCommand(Commands.runFile);
    const server = client();
    server.notify("btls/output", { uri: URI, runId: 1, stream: "status", text: "[btls] run 1: btc tick.bt\n" });
    server.notify("btls/output", { uri: URI, runId: 1, stream: "stdout", text: "Attaching 1 probe...\ntick\n" });
    server.notify("btls/output", { uri: URI, runId: 1, stream: "stderr", text: "warn" });
    server.notify("btls/output", { uri: URI, runId: 1, stream: "status", text: "[btls] run 1 ended: exit status 0\n", exitCode: 0, signal: null });
    server.notify("btls/output", { bogus: true });
    const channel = vscode.state.channels.find((item) => item.name === "bpftrace Run");
    assert.equal(channel?.text, "[btls] run 1: btc tick.bt\nAttaching 1 probe...\ntick\nwarn\n[btls] run 1 ended: exit status 0\n");
    assert.equal(vscode.state.statusItems[0].visible, false);
    assert.equal(vscode.state.context.get(RUNNING_CONTEXT), false);
  });

  it("Run File with Arguments passes $1, $2...", async () => {
    await start();
    openEditor();
    vscode.state.inputBoxAnswer = "1234 'a b'";
    await vscode.commands.executeCommand(Commands.runFileWithArgs);
    assert.deepEqual(executed(ServerCommands.run)[0].params.arguments, [{ uri: URI, args: ["1234", "a b"] }]);
  });

  it("Run Probe sends the cursor's line", async () => {
    await start();
    openEditor(URI, "BEGIN { }\n\ninterval:s:1 {\n  exit();\n}\n", 3);
    await vscode.commands.executeCommand(Commands.runProbe);
    assert.deepEqual(executed(ServerCommands.run)[0].params.arguments, [{ uri: URI, line: 3 }]);
  });

  it("a code lens's btls.run goes through the same path", async () => {
    await start();
    const result = await client().executeServerCommand(ServerCommands.run, [{ uri: URI, probe: 1, line: 4 }]);
    assert.equal((result as { started: boolean }).started, true);
    assert.deepEqual(executed(ServerCommands.run)[0].params.arguments, [{ uri: URI, probe: 1, line: 4 }]);
    assert.equal(vscode.state.statusItems[0].visible, true);
  });

  it("Stop (and the status bar item) sends btls.stop with the run's id", async () => {
    await start();
    openEditor();
    await vscode.commands.executeCommand(Commands.runFile);
    await vscode.commands.executeCommand(vscode.state.statusItems[0].command as string);
    assert.deepEqual(executed(ServerCommands.stop)[0].params.arguments, [{ runId: 1 }]);
  });

  it("Stop with nothing running says so", async () => {
    LanguageClient.respond = () => ({ stopped: false, message: "btls: no such run is active" });
    await start();
    await vscode.commands.executeCommand(Commands.stop);
    assert.deepEqual(executed(ServerCommands.stop)[0].params.arguments, [{}]);
    assert.deepEqual(vscode.state.messages, [{ kind: "info", text: "btls: no such run is active" }]);
  });

  it("a refused run leaves no status bar item", async () => {
    LanguageClient.respond = () => ({ started: false, reason: "errors", message: "btls: tick.bt has 1 error", diagnostics: [] });
    await start();
    openEditor();
    await vscode.commands.executeCommand(Commands.runFile);
    assert.equal(vscode.state.statusItems[0].visible, false);
  });

  it("Run needs a bpftrace document", async () => {
    await start();
    openEditor("file:///work/notes.txt", "hello", 0, "plaintext");
    await vscode.commands.executeCommand(Commands.runFile);
    assert.equal(executed(ServerCommands.run).length, 0);
    assert.match(vscode.state.messages[0].text, /open a bpftrace script/);
  });
});

describe("an untrusted workspace", () => {
  beforeEach(() => {
    vscode.state.isTrusted = false;
  });

  it("still gets the language features, with trusted: false", async () => {
    await start();
    assert.equal(client().isRunning(), true);
    assert.equal(client().clientOptions.initializationOptions.btls.trusted, false);
  });

  it("runs nothing: Run File, Run Probe, lenses and Verify are refused in the client", async () => {
    LanguageClient.serverCommands = ["btls.run", "btls.stop", "btls.verify"];
    vscode.state.isTrusted = false;
    await start();
    vscode.state.isTrusted = false;
    openEditor();
    await vscode.commands.executeCommand(Commands.runFile);
    await vscode.commands.executeCommand(Commands.runProbe);
    await vscode.commands.executeCommand(Commands.runFileWithArgs);
    await vscode.commands.executeCommand(Commands.verify);
    const lens = await client().executeServerCommand(ServerCommands.run, [{ uri: URI }]);
    await client().executeServerCommand(ServerCommands.verify, [{ uri: URI }]);
    assert.deepEqual(lens, { started: false, reason: "untrusted", message: UNTRUSTED_MESSAGE });
    assert.equal(client().requests.length, 0, "nothing reached the server");
    assert.equal(vscode.state.messages.filter((item) => item.text === UNTRUSTED_MESSAGE).length, 6);
  });

  it("declares limited support and ignores the workspace's server command", () => {
    const capability = manifest.capabilities.untrustedWorkspaces;
    assert.equal(capability.supported, "limited");
    for (const key of ["btls.server.command", "btls.server.pythonPath", "btls.kernelFacts", "btls.run.privilege"]) {
      assert.ok(capability.restrictedConfigurations.includes(key), key);
    }
  });

  it("starts a trusted server once trust is granted", async () => {
    await start();
    vscode.grantTrust();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(LanguageClient.instances.length, 2);
    assert.equal(client().clientOptions.initializationOptions.btls.trusted, true);
  });
});

describe("verify, format and Show AST", () => {
  it("Verify sends btls.verify when the server offers it", async () => {
    LanguageClient.serverCommands = ["btls.run", "btls.stop", "btls.verify"];
    LanguageClient.respond = () => ({ message: "tick.bt: the kernel verifier accepted 1 program" });
    await start();
    openEditor();
    await vscode.commands.executeCommand(Commands.verify);
    assert.deepEqual(executed(ServerCommands.verify)[0].params.arguments, [{ uri: URI }]);
    assert.deepEqual(vscode.state.messages, [{ kind: "info", text: "tick.bt: the kernel verifier accepted 1 program" }]);
  });

  it("Verify says so when the server does not offer it", async () => {
    await start();
    openEditor();
    await vscode.commands.executeCommand(Commands.verify);
    assert.equal(executed(ServerCommands.verify).length, 0);
    assert.match(vscode.state.messages[0].text, /does not offer btls\.verify/);
  });

  it("a Verify lens on a server without btls.verify says so instead of 'command not found'", async () => {
    await start();
    openEditor();
    assert.ok(vscode.state.commands.has(ServerCommands.verify));
    await vscode.commands.executeCommand(ServerCommands.verify, { uri: URI });
    assert.match(vscode.state.messages[0].text, /does not offer btls\.verify/);
    await vscode.commands.executeCommand(Commands.restartServer);
    assert.equal([...vscode.state.commands.keys()].filter((id) => id === ServerCommands.verify).length, 1);
  });

  it("leaves btls.verify to the language client when the server has it", async () => {
    LanguageClient.serverCommands = ["btls.run", "btls.stop", "btls.verify"];
    await start();
    assert.ok(!vscode.state.commands.has(ServerCommands.verify));
  });

  it("Format formats the document with the server's formatter", async () => {
    await start();
    await vscode.commands.executeCommand(Commands.format);
    assert.ok(vscode.state.executed.some((item) => item.command === "editor.action.formatDocument"));
  });

  describe("Show AST", () => {
    let directory: string;
    beforeEach(() => {
      directory = fs.mkdtempSync(path.join(os.tmpdir(), "btls-ast-test-"));
    });
    afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

    function fakePython(body: string): string {
      const script = path.join(directory, "python");
      fs.writeFileSync(script, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return script;
    }

    it("runs `python -m compiler --emit ast` on the saved file", async () => {
      const python = fakePython('echo "AST $*"');
      const saved = path.join(directory, "tick.bt");
      fs.writeFileSync(saved, TEXT);
      await start({ "btls.server.pythonPath": python });
      openEditor(`file://${saved}`, TEXT);
      await vscode.commands.executeCommand(Commands.showAst);
      assert.deepEqual(vscode.state.opened, [{ content: `AST -m compiler --emit ast ${saved}\n`, language: "plaintext" }]);
      assert.equal(vscode.state.shownDocuments.length, 1);
    });

    it("shows unsaved text, and the recovered tree of a broken file", async () => {
      const python = fakePython('cat "$5"; echo "$5: ERROR: unexpected" >&2; exit 1');
      await start({ "btls.server.pythonPath": python });
      const document = vscode.fakeDocument("untitled:Untitled-1", "BEGIN { $x = ; }", "bpftrace", true);
      vscode.state.textDocuments.push(document);
      vscode.state.activeTextEditor = { document, selection: { active: { line: 0, character: 0 } } };
      await vscode.commands.executeCommand(Commands.showAst);
      assert.equal(vscode.state.opened[0].content, "BEGIN { $x = ; }");
      assert.match(vscode.state.messages[0].text, /has errors; the tree is what the parser recovered/);
    });

    it("says what went wrong when the interpreter is missing", async () => {
      await start({ "btls.server.pythonPath": path.join(directory, "no-such-python") });
      openEditor();
      await vscode.commands.executeCommand(Commands.showAst);
      assert.equal(vscode.state.opened.length, 0);
      assert.match(vscode.state.messages[0].text, /could not start .*no-such-python.*btls\.server\.pythonPath/);
    });
  });
});
