/**
 * A stand-in for `vscode-languageclient/node`: records how the client was
 * built and what it sent; `FakeLanguageClient.respond` answers requests.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */

export enum TransportKind {
  stdio = 0,
  ipc = 1,
  pipe = 2,
  socket = 3,
}

export enum State {
  Stopped = 1,
  Starting = 3,
  Running = 2,
}

type Handler = (params: any) => void;

export class LanguageClient {
  static instances: LanguageClient[] = [];
  static serverCommands: string[] = ["btls.run", "btls.stop"];
  static startFailure: Error | undefined;
  /** Answers to workspace/executeCommand, by command. */
  static respond: (command: string, args: unknown[]) => unknown = () => null;

  readonly notificationHandlers = new Map<string, Handler>();
  readonly requests: Array<{ method: string; params: any }> = [];
  state = State.Stopped;
  initializeResult: any;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly serverOptions: any,
    readonly clientOptions: any,
  ) {
    LanguageClient.instances.push(this);
  }

  start(): Promise<void> {
    if (LanguageClient.startFailure) return Promise.reject(LanguageClient.startFailure);
    this.state = State.Running;
    this.initializeResult = { capabilities: { executeCommandProvider: { commands: [...LanguageClient.serverCommands] } } };
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.state = State.Stopped;
    return Promise.resolve();
  }

  isRunning(): boolean {
    return this.state === State.Running;
  }

  onNotification(method: string, handler: Handler) {
    this.notificationHandlers.set(method, handler);
    return { dispose: () => this.notificationHandlers.delete(method) };
  }

  sendRequest(method: string, params: any): Promise<unknown> {
    this.requests.push({ method, params });
    if (method === "workspace/executeCommand") {
      return Promise.resolve(LanguageClient.respond(params.command, params.arguments));
    }
    return Promise.resolve(null);
  }

  /** The server sends a notification. */
  notify(method: string, params: unknown): void {
    this.notificationHandlers.get(method)?.(params);
  }

  /** What VS Code does for a server command (e.g. a code lens): through the middleware. */
  executeServerCommand(command: string, args: unknown[]): unknown {
    const next = (cmd: string, a: unknown[]) =>
      this.sendRequest("workspace/executeCommand", { command: cmd, arguments: a });
    const middleware = this.clientOptions.middleware?.executeCommand;
    return middleware ? middleware(command, args, next) : next(command, args);
  }

  static reset(): void {
    LanguageClient.instances = [];
    LanguageClient.serverCommands = ["btls.run", "btls.stop"];
    LanguageClient.startFailure = undefined;
    LanguageClient.respond = () => null;
  }
}
