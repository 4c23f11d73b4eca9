/**
 * The .vsix that `vsce package` made (npm run test:package): what VS Code
 * installs. A .vsix is a zip; this reads its central directory.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const VSIX = path.join(ROOT, "out", "btls-bpftrace.vsix");

interface Entry {
  name: string;
  read(): Buffer;
}

function readZip(file: string): Map<string, Entry> {
  const data = fs.readFileSync(file);
  let end = data.length - 22;
  while (end >= 0 && data.readUInt32LE(end) !== 0x06054b50) end--;
  assert.ok(end >= 0, `${file} is not a zip`);
  const count = data.readUInt16LE(end + 10);
  let offset = data.readUInt32LE(end + 16);
  const entries = new Map<string, Entry>();
  for (let index = 0; index < count; index++) {
    assert.equal(data.readUInt32LE(offset), 0x02014b50);
    const method = data.readUInt16LE(offset + 10);
    const compressed = data.readUInt32LE(offset + 20);
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    const local = data.readUInt32LE(offset + 42);
    const name = data.subarray(offset + 46, offset + 46 + nameLength).toString("utf8");
    entries.set(name, {
      name,
      read: () => {
        const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
        const raw = data.subarray(start, start + compressed);
        return method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw);
      },
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

describe("the .vsix", () => {
  let entries: Map<string, Entry>;
  before(() => {
    assert.ok(fs.existsSync(VSIX), "run `vsce package --out out/btls-bpftrace.vsix` first (npm run test:package)");
    entries = readZip(VSIX);
  });

  it("holds the manifest, the compiled extension, the grammar and the language configuration", () => {
    const manifest = JSON.parse(entries.get("extension/package.json")!.read().toString("utf8"));
    const main = path.posix.join("extension", manifest.main);
    for (const name of [
      main,
      "extension/out/src/config.js",
      "extension/out/src/runs.js",
      "extension/syntaxes/bpftrace.tmLanguage.json",
      "extension/language-configuration.json",
      "extension.vsixmanifest",
    ]) {
      assert.ok(entries.has(name), `${name} is missing`);
    }
    const grammar = JSON.parse(entries.get("extension/syntaxes/bpftrace.tmLanguage.json")!.read().toString("utf8"));
    assert.equal(grammar.scopeName, "source.bpftrace");
    assert.equal(
      entries.get("extension/syntaxes/bpftrace.tmLanguage.json")!.read().toString("utf8"),
      fs.readFileSync(path.join(ROOT, "syntaxes", "bpftrace.tmLanguage.json"), "utf8"),
    );
  });

  it("carries the language client and its dependencies, not the dev tools", () => {
    const names = [...entries.keys()];
    assert.ok(names.includes("extension/node_modules/vscode-languageclient/package.json"));
    assert.ok(names.some((name) => name.startsWith("extension/node_modules/vscode-jsonrpc/")));
    for (const excluded of ["typescript", "mocha", "eslint", "@vscode/vsce", "vscode-tmgrammar-test"]) {
      assert.ok(!names.some((name) => name.startsWith(`extension/node_modules/${excluded}/`)), `${excluded} is packaged`);
    }
    for (const prefix of ["extension/src/", "extension/test/", "extension/out/test/", "extension/tools/"]) {
      assert.ok(!names.some((name) => name.startsWith(prefix)), `${prefix} is packaged`);
    }
  });

  it("resolves what its main module requires from inside the package", () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "btls-vsix-"));
    try {
      for (const entry of entries.values()) {
        if (!entry.name.startsWith("extension/") || entry.name.endsWith("/")) continue;
        const target = path.join(directory, entry.name);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, entry.read());
      }
      // Only `vscode` is missing outside VS Code: check what the module
      // needs to resolve from the package itself.
      const main = path.join(directory, "extension", "out", "src", "extension.js");
      const source = fs.readFileSync(main, "utf8");
      const required = [...source.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
      for (const request of required) {
        if (request === "vscode" || request.startsWith("node:")) continue;
        assert.doesNotThrow(() => require.resolve(request, { paths: [path.dirname(main)] }), `${request} does not resolve in the .vsix`);
      }
      assert.ok(required.includes("vscode-languageclient/node"));
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
