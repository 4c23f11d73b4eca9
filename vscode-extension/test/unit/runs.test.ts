import * as assert from "node:assert/strict";
import { OutputParams } from "../../src/output";
import { RunInfo, RunTracker, statusBarText, stopMessage } from "../../src/runs";

const URI = "file:///work/scripts/tick%20tock.bt";
const status = (runId: number, text: string, extra: Partial<OutputParams> = {}): OutputParams => ({
  uri: URI,
  runId,
  stream: "status",
  text,
  ...extra,
});

describe("run state", () => {
  it("follows a run from its answer to its closing line", () => {
    const tracker = new RunTracker();
    const seen: Array<RunInfo | undefined> = [];
    tracker.onDidChange((info) => seen.push(info));
    const info = tracker.started({ started: true, runId: 3, progressToken: "t", pid: 99, file: "tick tock.bt", probe: null }, URI);
    assert.deepEqual(info, { runId: 3, uri: URI, file: "tick tock.bt" });
    assert.deepEqual(tracker.stopArguments(), [{ runId: 3 }]);
    tracker.output({ uri: URI, runId: 3, stream: "stdout", text: "tick\n" });
    tracker.output(status(3, "[btls] run 3 ended: exit status 0\n", { exitCode: 0, signal: null }));
    assert.equal(tracker.active, undefined);
    assert.deepEqual(tracker.stopArguments(), [{}]);
    assert.deepEqual(seen.map((item) => item?.runId), [3, undefined]);
  });

  it("takes the opening line that comes before the answer", () => {
    const tracker = new RunTracker();
    tracker.output(status(1, "[btls] run 1: btc tick tock.bt\n"));
    assert.equal(tracker.active?.runId, 1);
    assert.equal(tracker.active?.file, "tick tock.bt");
    tracker.started({ started: true, runId: 1, file: "tick tock.bt", probe: "probe 2 (interval:ms:100, line 5)" }, URI);
    assert.equal(tracker.active?.probe, "probe 2 (interval:ms:100, line 5)");
  });

  it("does not revive a run whose end came before the answer", () => {
    const tracker = new RunTracker();
    tracker.output(status(2, "[btls] run 2: btc x.bt\n"));
    tracker.output(status(2, "[btls] run 2 ended: exit status 1\n", { exitCode: 1, signal: null }));
    assert.equal(tracker.started({ started: true, runId: 2 }, URI), undefined);
    assert.equal(tracker.active, undefined);
  });

  it("ignores refusals and answers that are not run results", () => {
    const tracker = new RunTracker();
    assert.equal(tracker.started({ started: false, reason: "busy", message: "run 1 is still active" }, URI), undefined);
    assert.equal(tracker.started(null, URI), undefined);
    assert.equal(tracker.started({ runId: 1 }, URI), undefined);
    assert.equal(tracker.active, undefined);
  });

  it("forgets the run when the server goes away", () => {
    const tracker = new RunTracker();
    tracker.started({ started: true, runId: 5 }, URI);
    tracker.clear();
    assert.equal(tracker.active, undefined);
    tracker.output({ uri: URI, runId: 5, stream: "stdout", text: "late\n" });
    assert.equal(tracker.active, undefined);
  });

  it("describes the run in the status bar", () => {
    const { text, tooltip } = statusBarText({ runId: 4, uri: URI, file: "tick tock.bt", probe: "probe 1 (BEGIN, line 1)" });
    assert.equal(text, "$(debug-stop) btc tick tock.bt");
    assert.match(tooltip, /run 4 of tick tock\.bt, probe 1 \(BEGIN, line 1\).*Click to stop/);
  });

  it("says when there was nothing to stop", () => {
    assert.equal(stopMessage({ stopped: true, runId: 1 }), undefined);
    assert.equal(stopMessage({ stopped: false, message: "btls: no such run is active" }), "btls: no such run is active");
    assert.equal(stopMessage(undefined), undefined);
  });
});
