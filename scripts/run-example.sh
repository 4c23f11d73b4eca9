#!/usr/bin/env bash
# The main job: install everything, then trace the live kernel with the
# bundled example (system calls by process, for five seconds) using btc.
# Tracing needs root: run it as root, or it says so.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/btc examples/syscalls_by_process.bt "$@"
