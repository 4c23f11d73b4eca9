/**
 * A hand-written stand-in for the `vscode` module: just what the extension
 * uses, recording what it is asked to do. `state` is reset before each test.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */

export class Disposable {
  constructor(private readonly callback: () => void = () => undefined) {}
  dispose(): void {
    this.callback();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(path: string): Uri {
    return new Uri("file", path);
  }
  static parse(value: string): Uri {
    const match = /^([a-z]+):(?:\/\/)?(.*)$/.exec(value);
    return match ? new Uri(match[1], match[1] === "file" ? match[2] : match[2]) : new Uri("file", value);
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return this.scheme === "file" ? `file://${this.path}` : `${this.scheme}:${this.path}`;
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
}

export class FakeOutputChannel {
  text = "";
  shown = 0;
  disposed = false;
  constructor(
    readonly name: string,
    readonly options?: unknown,
  ) {}
  append(value: string): void {
    this.text += value;
  }
  appendLine(value: string): void {
    this.text += value + "\n";
  }
  show(): void {
    this.shown++;
  }
  hide(): void {}
  clear(): void {
    this.text = "";
  }
  replace(value: string): void {
    this.text = value;
  }
  dispose(): void {
    this.disposed = true;
  }
  // LogOutputChannel
  logLevel = 2;
  onDidChangeLogLevel = () => new Disposable();
  trace(): void {}
  debug(): void {}
  info(message: string): void {
    this.appendLine(message);
  }
  warn(message: string): void {
    this.appendLine(message);
  }
  error(message: string): void {
    this.appendLine(String(message));
  }
}

export class FakeStatusBarItem {
  text = "";
  tooltip: string | undefined;
  command: string | undefined;
  visible = false;
  constructor(
    readonly alignment: StatusBarAlignment,
    readonly priority?: number,
  ) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.visible = false;
  }
}

export interface FakeDocument {
  uri: Uri;
  languageId: string;
  isDirty: boolean;
  getText(): string;
}

export function fakeDocument(uri: string, text: string, languageId = "bpftrace", isDirty = false): FakeDocument {
  return { uri: Uri.parse(uri), languageId, isDirty, getText: () => text };
}

type Listener = (...args: any[]) => unknown;

export const state = {
  isTrusted: true,
  config: {} as Record<string, unknown>,
  commands: new Map<string, Listener>(),
  executed: [] as Array<{ command: string; args: unknown[] }>,
  context: new Map<string, unknown>(),
  messages: [] as Array<{ kind: "info" | "warning" | "error"; text: string }>,
  channels: [] as FakeOutputChannel[],
  statusItems: [] as FakeStatusBarItem[],
  inputBoxAnswer: undefined as string | undefined,
  activeTextEditor: undefined as undefined | { document: FakeDocument; selection: { active: { line: number; character: number } } },
  textDocuments: [] as FakeDocument[],
  opened: [] as Array<{ content?: string; language?: string }>,
  shownDocuments: [] as unknown[],
  configurationListeners: [] as Listener[],
  trustListeners: [] as Listener[],
};

export function resetState(): void {
  state.isTrusted = true;
  state.config = {};
  state.commands = new Map();
  state.executed = [];
  state.context = new Map();
  state.messages = [];
  state.channels = [];
  state.statusItems = [];
  state.inputBoxAnswer = undefined;
  state.activeTextEditor = undefined;
  state.textDocuments = [];
  state.opened = [];
  state.shownDocuments = [];
  state.configurationListeners = [];
  state.trustListeners = [];
}

/** Change settings as the user would, and tell the extension. */
export function changeConfiguration(changes: Record<string, unknown>): void {
  Object.assign(state.config, changes);
  const keys = Object.keys(changes);
  const event = {
    affectsConfiguration: (section: string) => keys.some((key) => key === section || key.startsWith(section + ".")),
  };
  for (const listener of state.configurationListeners) listener(event);
}

export function grantTrust(): void {
  state.isTrusted = true;
  for (const listener of state.trustListeners) listener();
}

function message(kind: "info" | "warning" | "error") {
  return (text: string) => {
    state.messages.push({ kind, text });
    return Promise.resolve(undefined);
  };
}

export const window = {
  createOutputChannel(name: string, options?: unknown) {
    const channel = new FakeOutputChannel(name, options);
    state.channels.push(channel);
    return channel;
  },
  createStatusBarItem(alignment: StatusBarAlignment, priority?: number) {
    const item = new FakeStatusBarItem(alignment, priority);
    state.statusItems.push(item);
    return item;
  },
  showInformationMessage: message("info"),
  showWarningMessage: message("warning"),
  showErrorMessage: message("error"),
  showInputBox: () => Promise.resolve(state.inputBoxAnswer),
  showTextDocument(document: unknown) {
    state.shownDocuments.push(document);
    return Promise.resolve({ document });
  },
  get activeTextEditor() {
    return state.activeTextEditor;
  },
};

export const commands = {
  registerCommand(command: string, callback: Listener) {
    if (state.commands.has(command)) throw new Error(`command '${command}' already exists`);
    state.commands.set(command, callback);
    return new Disposable(() => state.commands.delete(command));
  },
  executeCommand(command: string, ...args: unknown[]) {
    state.executed.push({ command, args });
    if (command === "setContext") {
      state.context.set(args[0] as string, args[1]);
      return Promise.resolve(undefined);
    }
    const handler = state.commands.get(command);
    return Promise.resolve(handler ? handler(...args) : undefined);
  },
};

export const workspace = {
  get isTrusted() {
    return state.isTrusted;
  },
  get textDocuments() {
    return state.textDocuments;
  },
  getConfiguration(section: string) {
    return {
      get<T>(key: string, defaultValue?: T): T | undefined {
        const full = `${section}.${key}`;
        return full in state.config ? (state.config[full] as T) : defaultValue;
      },
    };
  },
  onDidChangeConfiguration(listener: Listener) {
    state.configurationListeners.push(listener);
    return new Disposable();
  },
  onDidGrantWorkspaceTrust(listener: Listener) {
    state.trustListeners.push(listener);
    return new Disposable();
  },
  openTextDocument(options: { content?: string; language?: string }) {
    state.opened.push(options);
    return Promise.resolve({ uri: Uri.parse("untitled:Untitled-1"), languageId: options.language, getText: () => options.content ?? "" });
  },
};
