#!/usr/bin/env bash
# Records what the real Chaos Toolkit CLI sends for the example experiments, into
# conformance/runner/<scenario>.json, for the Rust test runner/tests/conformance.rs.
#
# What it does (safe to run again and again):
#   1. creates target/conformance-runner-venv with pyenv's Python 3.12 (kept between
#      runs; rebuilt only if it is missing or broken),
#   2. installs chaostoolkit==1.21.4, chaostoolkit-lib==1.45.1 and jsonpath2 (for the
#      JSONPath tolerance) into it unless those exact versions are already there,
#   3. runs conformance/record_runner.py: one loopback HTTP server (the notification
#      sink with one http channel, plus the service the http experiments probe), then
#      `chaos --no-version-check --no-log-file --settings S run|validate …` for every
#      scenario, storing the exit code, the journal and the normalised envelopes.
#
# Usage: conformance/run_ctk_runner.sh [SCENARIO…]   (from anywhere inside the repository;
#        with names, only those scenarios are re-recorded)
# Env:   PYTHON=/path/to/python3.12  to use another interpreter for the venv.
#
# Needs PyPI on the first run only. The Rust test does not need Python.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$root/target/conformance-runner-venv"
ctk_version="1.21.4"
lib_version="1.45.1"
jsonpath_version="0.4.5"

# shellcheck source=conformance/venv.sh
source "$here/venv.sh"
ensure_venv "$venv" "chaostoolkit==$ctk_version" "chaostoolkit-lib==$lib_version" "jsonpath2==$jsonpath_version"

exec "$venv/bin/python" "$here/record_runner.py" "$@"
