#!/usr/bin/env bash
# Install everything, then run the whole test suite. Extra arguments go to
# pytest, e.g. ./scripts/test.sh -k syntax
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/python -m pytest "$@"
