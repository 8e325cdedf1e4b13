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

# shellcheck source=conformance/venv.sh
source "$here/venv.sh"
ensure_venv "$venv" "chaostoolkit-lib==$lib_version"

exec "$venv/bin/python" "$here/record_reference.py" \
    --cases "$here/cases.json" --out "$here/golden"
