import * as assert from "node:assert/strict";
import {
  initializationOptions,
  projectPython,
  readSettings,
  serverLaunch,
  shebangPython,
  splitArguments,
} from "../../src/config";
import { manifestDefaults, readerOf } from "./helpers";

describe("settings", () => {
  it("turns the manifest's defaults into the initializationOptions the server expects", () => {
    const settings = readSettings(readerOf(manifestDefaults()));
    assert.deepEqual(initializationOptions(settings, true), {
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
  });

  it("always declares outputNotification, and passes trust through", () => {
    const options = initializationOptions(readSettings(readerOf({})), false);
    assert.deepEqual(options, { btls: { run: { privilege: "auto" }, outputNotification: true, trusted: false } });
  });

  it("passes the server's settings through", () => {
    const settings = readSettings(
      readerOf({
        "btls.debounceMs": 40,
        "btls.kernelFacts": "none",
        "btls.completionLimit": 50,
        "btls.inlayHints.types": false,
        "btls.run.privilege": "sudo",
      }),
    );
    assert.deepEqual(initializationOptions(settings, true).btls, {
      debounceMs: 40,
      kernelFacts: "none",
      completionLimit: 50,
      inlayHints: { types: false },
      run: { privilege: "sudo" },
      outputNotification: true,
      trusted: true,
    });
  });

  it("ignores values of the wrong kind", () => {
    const settings = readSettings(
      readerOf({
        "btls.debounceMs": "fast",
        "btls.kernelFacts": "  ",
        "btls.run.privilege": "doas",
        "btls.server.command": ["", 3, "  "],
        "btls.inlayHints.types": "yes",
      }),
    );
    assert.equal(settings.debounceMs, undefined);
    assert.equal(settings.kernelFacts, undefined);
    assert.equal(settings.runPrivilege, "auto");
    assert.deepEqual(settings.serverCommand, []);
    assert.equal(settings.inlayHints.types, undefined);
  });
});

describe("server launch", () => {
  it("is `python3 -m btls` by default", () => {
    assert.deepEqual(serverLaunch(readSettings(readerOf(manifestDefaults()))), { command: "python3", args: ["-m", "btls"] });
  });

  it("uses btls.server.pythonPath", () => {
    const settings = readSettings(readerOf({ "btls.server.pythonPath": " /opt/btls/.venv/bin/python " }));
    assert.deepEqual(serverLaunch(settings), { command: "/opt/btls/.venv/bin/python", args: ["-m", "btls"] });
  });

  it("prefers btls.server.command, as an argument list", () => {
    const settings = readSettings(
      readerOf({ "btls.server.command": ["/opt/btls/.venv/bin/btls", "--stdio"], "btls.server.pythonPath": "/usr/bin/python3" }),
    );
    assert.deepEqual(serverLaunch(settings), { command: "/opt/btls/.venv/bin/btls", args: ["--stdio"] });
  });
});

describe("the project's Python (Show AST)", () => {
  const noFile = () => undefined;
  it("is btls.server.pythonPath when set", () => {
    assert.equal(projectPython(readSettings(readerOf({ "btls.server.pythonPath": "/p/python" })), noFile), "/p/python");
  });
  it("is the interpreter of `PY -m btls`", () => {
    assert.equal(projectPython(readSettings(readerOf({ "btls.server.command": ["/v/bin/python3", "-m", "btls"] })), noFile), "/v/bin/python3");
  });
  it("is read from a console script's #! line", () => {
    const settings = readSettings(readerOf({ "btls.server.command": ["/v/bin/btls"] }));
    assert.equal(projectPython(settings, (file) => (file === "/v/bin/btls" ? "#!/v/bin/python3.11" : undefined)), "/v/bin/python3.11");
    assert.equal(projectPython(settings, () => "#!/bin/sh"), "python3");
    assert.equal(projectPython(settings, noFile), "python3");
  });
  it("understands env shebangs", () => {
    assert.equal(shebangPython("#!/usr/bin/env python3"), "python3");
    assert.equal(shebangPython("#!/usr/bin/env bash"), undefined);
    assert.equal(shebangPython("#! /usr/bin/python"), "/usr/bin/python");
    assert.equal(shebangPython("import os"), undefined);
  });
});

describe("program arguments", () => {
  it("split at blanks, with quotes and escapes", () => {
    assert.deepEqual(splitArguments("1234  /tmp/a\\ b 'x y' \"q\\\"z\" ''"), ["1234", "/tmp/a b", "x y", 'q"z', ""]);
    assert.deepEqual(splitArguments("   "), []);
  });
});
