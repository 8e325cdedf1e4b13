#!/usr/bin/env bash
# Records the golden Slack messages in conformance/golden-slack/ from the real reference,
# chaostoolkit-slack 0.10.0 (with chaostoolkit-lib 1.45.1), running under CPython 3.12.
#
# What it does (safe to run again and again):
#   1. creates target/conformance-venv-slack with pyenv's Python 3.12 (kept between runs;
#      rebuilt only if it is missing or broken),
#   2. installs chaostoolkit-slack==0.10.0 and chaostoolkit-lib==1.45.1 into it unless
#      those exact versions are already there,
#   3. runs conformance/record_slack.py, which calls chaosslack.notification.notify() for
#      every case of conformance/slack_cases.json with slackclient pointed at a loopback
#      sink, and rewrites conformance/golden-slack/*.json (stale files are removed) and
#      notifier-core/src/pyvalue/nonprintable.rs.
#
# Usage: conformance/record_slack.sh          (from anywhere inside the repository)
# Env:   PYTHON=/path/to/python3.12  to use another interpreter for the venv.
#
# Needs network access to PyPI on the first run only. The Rust test that reads the
# golden files (notifier-core/tests/slack_plugin.rs) does not need Python.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$root/target/conformance-venv-slack"
slack_version="0.10.0"
lib_version="1.45.1"

# shellcheck source=conformance/venv.sh
source "$here/venv.sh"
ensure_venv "$venv" "chaostoolkit-slack==$slack_version" "chaostoolkit-lib==$lib_version"

mkdir -p "$root/notifier-core/src/plugins/slack"
exec "$venv/bin/python" "$here/record_slack.py" \
    --cases "$here/slack_cases.json" --out "$here/golden-slack" \
    --rust-table "$root/notifier-core/src/pyvalue/nonprintable.rs"
