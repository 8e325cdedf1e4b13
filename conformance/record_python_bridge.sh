#!/usr/bin/env bash
# Records what chaostoolkit-lib 1.45.1 does with the Python-bridge cases
# (conformance/python-bridge/cases.json) into conformance/python-bridge/recorded.json;
# python/tests/conformance.rs compares notifier-python's results with it.
#
#   conformance/record_python_bridge.sh
#
# The venv (target/bridge-venv, Python 3.12) is created once; PyPI is needed only then.
set -euo pipefail
cd "$(dirname "$0")/.."
source conformance/venv.sh

VENV=target/bridge-venv
ensure_venv "$VENV" chaostoolkit==1.21.4 chaostoolkit-lib==1.45.1
# No __pycache__ in the committed modules directory.
PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" conformance/record_python_bridge.py conformance/python-bridge
