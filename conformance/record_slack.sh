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
#      notifier-core/src/plugins/slack/nonprintable.rs.
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
    echo "record_slack.sh: no Python >= 3.12 found under /root/.pyenv/versions (set PYTHON=…)" >&2
    exit 2
}

if ! "$venv/bin/python" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
    python="$(find_python)"
    echo "creating $venv with $python" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
fi

version_of() {
    "$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true
}

if [[ "$(version_of chaostoolkit-slack)" != "$slack_version" || "$(version_of chaostoolkit-lib)" != "$lib_version" ]]; then
    echo "installing chaostoolkit-slack==$slack_version chaostoolkit-lib==$lib_version into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "chaostoolkit-slack==$slack_version" "chaostoolkit-lib==$lib_version"
fi

mkdir -p "$root/notifier-core/src/plugins/slack"
exec "$venv/bin/python" "$here/record_slack.py" \
    --cases "$here/slack_cases.json" --out "$here/golden-slack" \
    --rust-table "$root/notifier-core/src/plugins/slack/nonprintable.rs"
