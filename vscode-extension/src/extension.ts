/**
 * The VS Code side of btls: starts the language server, shows the run
 * stream, and adds Run, Run Probe, Stop, Verify, Format and Show AST.
 *
 * Pure logic lives in modules that do not import `vscode` (config, output,
 * runs, ast, ids) and is unit-tested directly; this file wires it to the
 * editor and is tested with a stubbed `vscode` and language client.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import {
  ExecuteCommandSignature,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";
import { astFailure, emitAst } from "./ast";
import {
  initializationOptions,
  projectPython,
  readSettings,
  RESTART_SETTINGS,
  serverLaunch,
  Settings,
  splitArguments,
} from "./config";
import { CLIENT_ID, Commands, CONFIG_SECTION, LANGUAGE_ID, OUTPUT_NOTIFICATION, RUNNING_CONTEXT, ServerCommands } from "./ids";
import { isOutputParams, OutputFormatter } from "./output";
import { RunInfo, RunTracker, statusBarText, stopMessage } from "./runs";

export const UNTRUSTED_MESSAGE =
  "bpftrace: this workspace is not trusted, so nothing is run in it. Checking, completion and formatting still work; " +
  "trust the workspace (Manage Workspace Trust) to run scripts.";

interface RunArgument {
  uri: string;
  probe?: number;
  line?: number;
  args?: string[];
}

export class BtlsExtension implements vscode.Disposable {
  readonly runOutput: vscode.OutputChannel;
  readonly serverOutput: vscode.LogOutputChannel;
  readonly statusItem: vscode.StatusBarItem;
  readonly runs = new RunTracker();
  private readonly formatter = new OutputFormatter();
  private readonly disposables: vscode.Disposable[] = [];
  private clientDisposables: vscode.Disposable[] = [];
  client: LanguageClient | undefined;
  settings: Settings;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.settings = readSettings(vscode.workspace.getConfiguration(CONFIG_SECTION));
    this.runOutput = vscode.window.createOutputChannel("bpftrace Run");
    this.serverOutput = vscode.window.createOutputChannel("btls Language Server", { log: true });
    this.statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
    this.statusItem.command = Commands.stop;
    this.disposables.push(this.runOutput, this.serverOutput, this.statusItem);
    this.runs.onDidChange((info) => this.showRunState(info));

    const register = (id: string, handler: (...args: never[]) => unknown) =>
      this.disposables.push(vscode.commands.registerCommand(id, handler));
    register(Commands.runFile, (resource?: vscode.Uri) => this.runFile(resource));
    register(Commands.runFileWithArgs, (resource?: vscode.Uri) => this.runFileWithArgs(resource));
    register(Commands.runProbe, (resource?: vscode.Uri) => this.runProbe(resource));
    register(Commands.stop, () => this.stop());
    register(Commands.verify, (resource?: vscode.Uri) => this.verify(resource));
    register(Commands.format, () => this.format());
    register(Commands.showAst, (resource?: vscode.Uri) => this.showAst(resource));
    register(Commands.showOutput, () => this.runOutput.show(true));
    register(Commands.restartServer, () => this.restart());

    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!event.affectsConfiguration(CONFIG_SECTION)) return;
        this.settings = readSettings(vscode.workspace.getConfiguration(CONFIG_SECTION));
        if (RESTART_SETTINGS.some((key) => event.affectsConfiguration(key))) {
          void this.restart();
        }
      }),
      // The server never regains trust through settings: a new one is started.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.restart()),
    );
  }

  // ------------------------------------------------------------ the server

  async start(): Promise<void> {
    const launch = serverLaunch(this.settings);
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      transport: TransportKind.stdio,
      // Not the workspace: `python -m` puts its working directory first on
      // sys.path, and a workspace's own .py files must never be imported.
      options: { cwd: this.context.extensionPath },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: LANGUAGE_ID },
        { scheme: "untitled", language: LANGUAGE_ID },
      ],
      initializationOptions: initializationOptions(this.settings, vscode.workspace.isTrusted),
      synchronize: { configurationSection: CONFIG_SECTION },
      outputChannel: this.serverOutput,
      middleware: {
        // Code lenses call the server's commands directly: runs started
        // from them go through the same path as the Run commands.
        executeCommand: (command: string, args: unknown[], next: ExecuteCommandSignature) =>
          this.interceptCommand(command, args, next),
      },
    };
    const client = new LanguageClient(CLIENT_ID, "btls (bpftrace)", serverOptions, clientOptions);
    this.client = client;
    this.clientDisposables = [
      client.onNotification(OUTPUT_NOTIFICATION, (params: unknown) => this.onOutput(params)),
    ];
    try {
      await client.start();
      // The Verify code lens names btls.verify; a server without it would
      // leave the lens pointing at a command VS Code does not know.
      if (!this.serverHas(ServerCommands.verify)) {
        this.clientDisposables.push(
          vscode.commands.registerCommand(ServerCommands.verify, (argument?: { uri?: string }) =>
            this.verify(typeof argument?.uri === "string" ? vscode.Uri.parse(argument.uri) : undefined),
          ),
        );
      }
    } catch (failure) {
      void vscode.window.showErrorMessage(
        `bpftrace: the btls language server did not start (${launch.command} ${launch.args.join(" ")}): ${String(failure)}. ` +
          "Set btls.server.command or btls.server.pythonPath.",
      );
    }
  }

  async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    for (const disposable of this.clientDisposables) disposable.dispose();
    this.clientDisposables = [];
    this.runs.clear();
    if (client) {
      try {
        await client.stop();
      } catch {
        // already stopped, or never started
      }
    }
  }

  async restart(): Promise<void> {
    await this.stopClient();
    await this.start();
  }

  private serverHas(command: string): boolean {
    const commands = this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    return commands.includes(command);
  }

  private async execute(command: string, args: unknown[]): Promise<unknown> {
    if (!this.client) {
      void vscode.window.showErrorMessage("bpftrace: the btls language server is not running (bpftrace: Restart Language Server).");
      return undefined;
    }
    return this.client.sendRequest("workspace/executeCommand", { command, arguments: args });
  }

  private interceptCommand(command: string, args: unknown[], next: ExecuteCommandSignature): unknown {
    if (command === ServerCommands.run) {
      const argument = args[0];
      if (typeof argument === "object" && argument !== null && typeof (argument as RunArgument).uri === "string") {
        return this.run(argument as RunArgument);
      }
    }
    if (command === ServerCommands.stop) return this.stop();
    if (command === ServerCommands.verify && !vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE);
      return undefined;
    }
    return next(command, args);
  }

  // ------------------------------------------------------------------ runs

  private onOutput(params: unknown): void {
    if (!isOutputParams(params)) return;
    this.runOutput.append(this.formatter.format(params));
    this.runs.output(params);
  }

  private showRunState(info: RunInfo | undefined): void {
    if (info) {
      const { text, tooltip } = statusBarText(info);
      this.statusItem.text = text;
      this.statusItem.tooltip = tooltip;
      this.statusItem.show();
    } else {
      this.statusItem.hide();
    }
    void vscode.commands.executeCommand("setContext", RUNNING_CONTEXT, info !== undefined);
  }

  /** `btls.run` with one argument object; the answer as the server gave it. */
  async run(argument: RunArgument): Promise<unknown> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE);
      return { started: false, reason: "untrusted", message: UNTRUSTED_MESSAGE };
    }
    if (this.settings.revealOutput) this.runOutput.show(true);
    const result = await this.execute(ServerCommands.run, [argument]);
    // A refusal is shown by the server itself (window/showMessage).
    this.runs.started(result, argument.uri);
    return result;
  }

  private document(resource?: vscode.Uri): vscode.TextDocument | undefined {
    const editor = vscode.window.activeTextEditor;
    let document: vscode.TextDocument | undefined;
    if (resource && typeof resource === "object" && "scheme" in resource) {
      document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === resource.toString());
    }
    document ??= editor?.document;
    if (!document || document.languageId !== LANGUAGE_ID) {
      void vscode.window.showWarningMessage("bpftrace: open a bpftrace script (.bt) first.");
      return undefined;
    }
    return document;
  }

  async runFile(resource?: vscode.Uri, args?: string[]): Promise<unknown> {
    const document = this.document(resource);
    if (!document) return undefined;
    const argument: RunArgument = { uri: document.uri.toString() };
    if (args && args.length > 0) argument.args = args;
    return this.run(argument);
  }

  async runFileWithArgs(resource?: vscode.Uri): Promise<unknown> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE);
      return undefined;
    }
    const line = await vscode.window.showInputBox({
      prompt: "Arguments for $1, $2, ... (quote an argument with blanks)",
      placeHolder: "1234 /tmp/file",
    });
    if (line === undefined) return undefined;
    return this.runFile(resource, splitArguments(line));
  }

  async runProbe(resource?: vscode.Uri): Promise<unknown> {
    const document = this.document(resource);
    if (!document) return undefined;
    const editor = vscode.window.activeTextEditor;
    const line = editor && editor.document === document ? editor.selection.active.line : 0;
    return this.run({ uri: document.uri.toString(), line });
  }

  async stop(): Promise<unknown> {
    const result = await this.execute(ServerCommands.stop, this.runs.stopArguments());
    const message = stopMessage(result);
    if (message) void vscode.window.showInformationMessage(message);
    return result;
  }

  // ------------------------------------------------- verify, format, AST

  async verify(resource?: vscode.Uri): Promise<unknown> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE);
      return undefined;
    }
    const document = this.document(resource);
    if (!document) return undefined;
    if (!this.serverHas(ServerCommands.verify)) {
      void vscode.window.showErrorMessage(
        "bpftrace: this btls server does not offer btls.verify yet; update btls, or run `btc --verify FILE` as root.",
      );
      return undefined;
    }
    const result = await this.execute(ServerCommands.verify, [{ uri: document.uri.toString() }]);
    const message = typeof result === "object" && result !== null ? (result as { message?: unknown }).message : undefined;
    if (typeof message === "string" && message) void vscode.window.showInformationMessage(message);
    return result;
  }

  async format(): Promise<unknown> {
    return vscode.commands.executeCommand("editor.action.formatDocument");
  }

  async showAst(resource?: vscode.Uri): Promise<vscode.TextDocument | undefined> {
    const document = this.document(resource);
    if (!document) return undefined;
    const python = projectPython(this.settings);
    const saved = document.uri.scheme === "file" && !document.isDirty ? document.uri.fsPath : undefined;
    const name = path.basename(document.uri.path) || "untitled.bt";
    const result = await emitAst(python, name, document.getText(), saved);
    if (!result.stdout.trim()) {
      void vscode.window.showErrorMessage(astFailure(result, python) ?? "bpftrace: btc printed no tree.");
      return undefined;
    }
    if (result.code !== 0) {
      void vscode.window.showWarningMessage(
        `bpftrace: ${name} has errors; the tree is what the parser recovered. ${result.stderr.trim().split("\n")[0] ?? ""}`,
      );
    }
    const tree = await vscode.workspace.openTextDocument({ content: result.stdout, language: "plaintext" });
    await vscode.window.showTextDocument(tree, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    return tree;
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}

let extension: BtlsExtension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<BtlsExtension> {
  extension = new BtlsExtension(context);
  context.subscriptions.push(extension);
  await extension.start();
  return extension;
}

export async function deactivate(): Promise<void> {
  const current = extension;
  extension = undefined;
  await current?.stopClient();
}
