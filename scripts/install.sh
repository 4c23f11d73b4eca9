#!/usr/bin/env bash
# Install everything btls needs on a fresh Debian machine: the apt packages
# in scripts/apt-packages.txt and a Python virtual environment in .venv with
# the project and its test dependencies. Safe to run again: it only installs
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r package; do
    case "$package" in ''|\#*) continue ;; esac
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done < scripts/apt-packages.txt

if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "install.sh: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
# Reinstall only when the project's metadata changed.
stamp=".venv/.installed-$(cat pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)"
if [ ! -e "$stamp" ]; then
    # editable_mode=compat: a plain path entry in a .pth file. The default
    # editable mode installs an import hook that costs every start ~13 ms.
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' \
        --config-settings editable_mode=compat
    rm -f .venv/.installed-*
    touch "$stamp"
fi

# Byte-compile our own modules, so that the first run, and every run where
# PYTHONDONTWRITEBYTECODE is set, does not compile them again (about 70 ms
# of btc's and btls's start).
.venv/bin/python -m compileall -q compiler btls >/dev/null
