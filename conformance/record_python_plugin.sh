#!/usr/bin/env bash
# Records what chaostoolkit 1.21.4 / chaostoolkit-lib 1.45.1 pass to a Python notification
# plugin, into conformance/python-plugin/recorded.json, for tests/python_plugins.rs.
#
# The plugin (conformance/python-plugin/ctkrecplug.py) writes one JSON line per call; the
# settings (settings.template.yaml) name it three ways (default func, another func with a
# filter and extra keys, a class instead of a function) plus a module that is not
# installed. The flows: `chaos run` of a valid experiment and `chaos validate` of an
# invalid one (its error reaches the plugin as an exception object).
#
# Usage: conformance/record_python_plugin.sh   (PyPI needed on the first run only)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$root/target/conformance-runner-venv"
# shellcheck source=conformance/venv.sh
source "$here/venv.sh"
ensure_venv "$venv" "chaostoolkit==1.21.4" "chaostoolkit-lib==1.45.1" "jsonpath2==0.4.5"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
record="$tmp/record.jsonl"
sed "s#<record>#$record#" "$here/python-plugin/settings.template.yaml" > "$tmp/settings.yaml"
run() {
    (cd "$tmp" && PYTHONPATH="$here/python-plugin" "$venv/bin/chaos" --no-version-check --no-log-file \
        --settings "$tmp/settings.yaml" "$@" >/dev/null 2>&1) || true
}
run run "$root/examples/experiments/local-health.json"
run validate "$root/examples/experiments/invalid-no-description.json"
"$venv/bin/python" - "$record" "$here/python-plugin/recorded.json" <<'PY'
import json, sys
calls = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
for call in calls:
    call["channel"]["record_to"] = "<record>"
meta = {"chaostoolkit": "1.21.4", "chaostoolkit-lib": "1.45.1", "python": sys.version.split()[0]}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump({"recorded_with": meta, "calls": calls}, f, indent=2)
    f.write("\n")
print(f"{len(calls)} plugin calls recorded")
PY
