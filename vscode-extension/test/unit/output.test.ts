import * as assert from "node:assert/strict";
import { isOutputParams, isRunEnd, OutputFormatter, OutputParams } from "../../src/output";

const piece = (stream: OutputParams["stream"], text: string, extra: Partial<OutputParams> = {}): OutputParams => ({
  uri: "file:///w/tick.bt",
  runId: 1,
  stream,
  text,
  ...extra,
});

describe("run output", () => {
  it("recognises the notification and its closing line", () => {
    assert.ok(isOutputParams(piece("stdout", "x\n")));
    assert.ok(!isOutputParams({ text: "x", runId: "1", stream: "stdout" }));
    assert.ok(!isOutputParams({ text: "x", runId: 1, stream: "log" }));
    assert.ok(!isOutputParams(null));
    assert.ok(isRunEnd(piece("status", "[btls] run 1 ended: exit status 0\n", { exitCode: 0, signal: null })));
    assert.ok(isRunEnd(piece("status", "[btls] run 1 ended: killed by SIGKILL\n", { exitCode: null, signal: "SIGKILL" })));
    assert.ok(!isRunEnd(piece("status", "[btls] run 1: btc tick.bt\n")));
  });

  it("keeps the program's text as it is", () => {
    const formatter = new OutputFormatter();
    const text = [
      formatter.format(piece("status", "[btls] run 1: btc tick.bt\n")),
      formatter.format(piece("stdout", "Attaching 1 probe...\n")),
      formatter.format(piece("stdout", "tick 1\ntick 2\n")),
      formatter.format(piece("stderr", "WARNING: lost 3 events\n")),
      formatter.format(piece("status", "[btls] run 1 ended: exit status 0\n", { exitCode: 0 })),
    ].join("");
    assert.equal(
      text,
      "[btls] run 1: btc tick.bt\nAttaching 1 probe...\ntick 1\ntick 2\nWARNING: lost 3 events\n[btls] run 1 ended: exit status 0\n",
    );
  });

  it("continues an unfinished line of the same stream, and breaks it for another", () => {
    const formatter = new OutputFormatter();
    assert.equal(formatter.format(piece("stdout", "progress: ")), "progress: ");
    assert.equal(formatter.format(piece("stdout", "50%")), "50%");
    assert.equal(formatter.format(piece("stderr", "oops\r\n")), "\noops\n");
    assert.equal(formatter.format(piece("stdout", "partial")), "partial");
    assert.equal(formatter.format(piece("status", "[btls] run 1 ended: killed by SIGINT", { signal: "SIGINT" })),
      "\n[btls] run 1 ended: killed by SIGINT\n");
    assert.equal(formatter.format(piece("stdout", "")), "");
  });
});
