/** package.json and language-configuration.json: what VS Code reads without running any code. */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { manifest, ROOT } from "./helpers";

/* eslint-disable @typescript-eslint/no-explicit-any */
const languageConfiguration: any = JSON.parse(fs.readFileSync(path.join(ROOT, "language-configuration.json"), "utf8"));

/** VS Code reads these patterns as JavaScript regular expressions. */
function regex(pattern: string): RegExp {
  return new RegExp(pattern);
}

describe("manifest", () => {
  const language = manifest.contributes.languages[0];

  it("contributes the bpftrace language for *.bt and bpftrace shebangs", () => {
    assert.equal(language.id, "bpftrace");
    assert.deepEqual(language.extensions, [".bt"]);
    const firstLine = regex(language.firstLine);
    for (const line of ["#!/usr/bin/env bpftrace", "#!/usr/bin/bpftrace -q", "#!/usr/local/bin/bpftrace"]) {
      assert.match(line, firstLine);
    }
    for (const line of ["#!/bin/bash", "#!/usr/bin/env python3", "// bpftrace script"]) {
      assert.doesNotMatch(line, firstLine);
    }
  });

  it("points at files that exist, and the grammar's scope", () => {
    const grammar = manifest.contributes.grammars[0];
    const tm = JSON.parse(fs.readFileSync(path.join(ROOT, grammar.path), "utf8"));
    assert.equal(grammar.scopeName, tm.scopeName);
    assert.equal(grammar.scopeName, "source.bpftrace");
    assert.equal(grammar.language, "bpftrace");
    assert.ok(fs.existsSync(path.join(ROOT, language.configuration)));
    assert.equal(manifest.main, "./out/src/extension.js");
    assert.ok(fs.existsSync(path.join(ROOT, manifest.main)), "compiled before the tests run");
  });

  it("needs a VS Code that vscode-languageclient supports", () => {
    assert.equal(manifest.engines.vscode, "^1.91.0");
    const client = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "vscode-languageclient", "package.json"), "utf8"));
    assert.equal(client.engines.vscode, manifest.engines.vscode);
  });

  it("offers a setting for each of the server's settings", () => {
    const keys = Object.keys(manifest.contributes.configuration.properties).sort();
    assert.deepEqual(keys, [
      "btls.completionLimit",
      "btls.debounceMs",
      "btls.inlayHints.parameters",
      "btls.inlayHints.types",
      "btls.kernelFacts",
      "btls.run.privilege",
      "btls.run.revealOutput",
      "btls.server.command",
      "btls.server.pythonPath",
      "btls.trace.server",
    ]);
    const properties = manifest.contributes.configuration.properties;
    assert.deepEqual(properties["btls.run.privilege"].enum, ["auto", "none", "sudo", "pkexec"]);
    assert.deepEqual(properties["btls.trace.server"].enum, ["off", "messages", "verbose"]);
    assert.equal(properties["btls.server.command"].type, "array");
  });

  it("hides Run in untrusted workspaces and Stop while nothing runs", () => {
    const byId = new Map<string, any>(manifest.contributes.commands.map((item: any) => [item.command, item]));
    for (const id of ["bpftrace.runFile", "bpftrace.runFileWithArgs", "bpftrace.runProbe", "bpftrace.verify"]) {
      assert.equal(byId.get(id).enablement, "isWorkspaceTrusted", id);
    }
    const title = manifest.contributes.menus["editor/title"];
    assert.match(title.find((item: any) => item.command === "bpftrace.runFile").when, /isWorkspaceTrusted/);
    assert.match(title.find((item: any) => item.command === "bpftrace.stop").when, /bpftrace\.running/);
  });
});

describe("language configuration", () => {
  it("has both comment kinds and the three bracket pairs", () => {
    assert.deepEqual(languageConfiguration.comments, { lineComment: "//", blockComment: ["/*", "*/"] });
    assert.deepEqual(languageConfiguration.brackets, [["{", "}"], ["[", "]"], ["(", ")"]]);
  });

  it("auto-closes quotes outside strings and comments", () => {
    for (const quote of ['"', "'"]) {
      const pair = languageConfiguration.autoClosingPairs.find((item: any) => item.open === quote);
      assert.deepEqual(pair.notIn, ["string", "comment"]);
    }
  });

  it("takes @ and $ into words (double-click, rename)", () => {
    const words = (text: string) => text.match(new RegExp(languageConfiguration.wordPattern, "g"));
    assert.deepEqual(words("@bytes[comm] = $x + $1 + $# + @;"), ["@bytes", "comm", "$x", "$1", "$#", "@"]);
    assert.deepEqual(words("x = 100ms"), ["x", "100ms"]);
  });

  it("indents after { and outdents at }", () => {
    const rules = languageConfiguration.indentationRules;
    assert.match("kprobe:f {", regex(rules.increaseIndentPattern));
    assert.match("  if ($x) {", regex(rules.increaseIndentPattern));
    assert.doesNotMatch("  $x = 1; // {", regex(rules.increaseIndentPattern));
    assert.match("  }", regex(rules.decreaseIndentPattern));
  });

  it("continues /** comments on Enter", () => {
    const rule = languageConfiguration.onEnterRules[1];
    assert.match("/** Count syscalls", regex(rule.beforeText));
    assert.equal(rule.action.appendText, " * ");
    assert.doesNotMatch("/** done */", regex(rule.beforeText));
  });
});
