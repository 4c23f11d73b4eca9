/**
 * Tokenize bpftrace text with the extension's grammar, as VS Code would
 * (vscode-textmate with the oniguruma WASM build). Used by the grammar
 * coverage test; `node out/test/grammar/tokenize.js FILE` prints the tokens.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as oniguruma from "vscode-oniguruma";
import * as textmate from "vscode-textmate";

export const EXTENSION_ROOT = path.resolve(__dirname, "..", "..", "..");
export const GRAMMAR_PATH = path.join(EXTENSION_ROOT, "syntaxes", "bpftrace.tmLanguage.json");

export interface Token {
  line: number; // 0-based
  start: number; // column, UTF-16
  end: number;
  text: string;
  scopes: string[];
}

let registry: textmate.Registry | undefined;

async function loadRegistry(): Promise<textmate.Registry> {
  if (!registry) {
    const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
    await oniguruma.loadWASM(wasm);
    registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (text: string) => new oniguruma.OnigString(text),
      }),
      loadGrammar: async (scopeName: string) =>
        scopeName === "source.bpftrace"
          ? textmate.parseRawGrammar(fs.readFileSync(GRAMMAR_PATH, "utf8"), GRAMMAR_PATH)
          : null,
    });
  }
  return registry;
}

export async function tokenize(text: string): Promise<Token[]> {
  const grammar = await (await loadRegistry()).loadGrammar("source.bpftrace");
  if (!grammar) {
    throw new Error("grammar source.bpftrace did not load");
  }
  const tokens: Token[] = [];
  let state = textmate.INITIAL;
  text.split(/\r?\n/).forEach((lineText, line) => {
    const result = grammar.tokenizeLine(lineText, state);
    for (const token of result.tokens) {
      const end = Math.min(token.endIndex, lineText.length);
      tokens.push({ line, start: token.startIndex, end, text: lineText.slice(token.startIndex, end), scopes: token.scopes });
    }
    state = result.ruleStack;
  });
  return tokens;
}

if (require.main === module) {
  void (async () => {
    for (const file of process.argv.slice(2)) {
      for (const token of await tokenize(fs.readFileSync(file, "utf8"))) {
        if (token.text.trim()) {
          const scopes = token.scopes.slice(1).join(" ");
          console.log(`${token.line + 1}:${token.start + 1}\t${JSON.stringify(token.text)}\t${scopes}`);
        }
      }
    }
  })();
}
