#!/usr/bin/env bash
# The main job: install everything, then run btc on the bundled example.
# Until the backend lands, btc checks the example (parse and analysis)
# instead of tracing with it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/btc --check -v examples/syscalls_by_process.bt "$@"
