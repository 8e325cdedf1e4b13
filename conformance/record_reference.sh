#!/usr/bin/env bash
# Records the golden envelope bytes in conformance/golden/ from the real reference,
# chaostoolkit-lib 1.45.1, running under CPython 3.12.
#
# What it does (safe to run again and again):
#   1. creates target/conformance-venv with pyenv's Python 3.12 (kept between runs;
#      rebuilt only if it is missing or broken),
#   2. installs chaostoolkit-lib==1.45.1 into it unless that exact version is already there,
#   3. runs conformance/record_reference.py, which sends every case of
#      conformance/cases.json through chaoslib.notification.notify() to a loopback sink
#      and rewrites conformance/golden/<id>.json (stale golden files are removed).
#
# Usage: conformance/record_reference.sh          (from anywhere inside the repository)
# Env:   PYTHON=/path/to/python3.12  to use another interpreter for the venv.
#
# Needs network access to PyPI on the first run only. The Rust test that reads the
# golden files (notifier-core/tests/conformance_envelopes.rs) does not need Python.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$root/target/conformance-venv"
lib_version="1.45.1"

find_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        echo "$PYTHON"
        return
    fi
    local preferred=/root/.pyenv/versions/3.12.1/bin/python3
    if [[ -x "$preferred" ]]; then
        echo "$preferred"
        return
    fi
    local candidate
    for candidate in /root/.pyenv/versions/3.1[2-9]*/bin/python3; do
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return
        fi
    done
    echo "record_reference.sh: no Python >= 3.12 found under /root/.pyenv/versions (set PYTHON=…)" >&2
    exit 2
}

if ! "$venv/bin/python" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
    python="$(find_python)"
    echo "creating $venv with $python" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
fi

installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("chaostoolkit-lib"))' 2>/dev/null || true)"
if [[ "$installed" != "$lib_version" ]]; then
    echo "installing chaostoolkit-lib==$lib_version into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "chaostoolkit-lib==$lib_version"
fi

exec "$venv/bin/python" "$here/record_reference.py" \
    --cases "$here/cases.json" --out "$here/golden"
