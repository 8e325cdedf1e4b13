#!/usr/bin/env bash
# Verifies our Standard Webhooks signatures with the reference Python library,
# standardwebhooks (PyPI), and records its verdicts in conformance/signing/.
#
# What it does (safe to run again and again):
#   1. creates target/conformance-venv-sw with pyenv's Python 3.12 (kept between runs),
#      and installs standardwebhooks==$sw_version into it unless already there,
#   2. records requests notifier-core signed (real HTTP and HTTPS requests to loopback
#      servers, plus tampered, stale, future and mis-keyed variants) to
#      conformance/signing/requests.json with the ignored Rust test
#      `record_signed_requests` (notifier-core/tests/signing.rs),
#   3. verifies each with standardwebhooks.Webhook.verify right away (the library
#      checks timestamps against its clock, ±5 minutes) and writes
#      conformance/signing/verdicts.json.
#
# The Rust test `the_python_library_agreed_with_every_recorded_case` then checks that
# every genuine request was accepted and every altered one refused; it needs no Python.
#
# Usage: conformance/verify_signatures.sh      (from anywhere inside the repository)
# Env:   PYTHON=/path/to/python3.12 for another interpreter; CARGO_TARGET_DIR as usual.
# Needs network access to PyPI on the first run only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$root/target/conformance-venv-sw"
sw_version="1.1.0"
# shellcheck source=conformance/venv.sh
source "$here/venv.sh"
ensure_venv "$venv" "standardwebhooks==$sw_version"

cd "$root"
cargo test -q -p notifier-core --test signing -- --ignored --exact record_signed_requests
"$venv/bin/python" "$here/verify_signatures.py" \
    "$here/signing/requests.json" "$here/signing/verdicts.json"
cargo test -q -p notifier-core --test signing -- --exact the_python_library_agreed_with_every_recorded_case
echo "verdicts written to conformance/signing/verdicts.json"
