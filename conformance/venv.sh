# Shared by the recording scripts (source it): a venv with CPython >= 3.12 and pinned
# packages, created once under target/ and reused while it still has those versions.
#
#   source conformance/venv.sh
#   ensure_venv target/some-venv chaostoolkit-lib==1.45.1 …
#
# PYTHON=/path/to/python3.12 overrides the interpreter; otherwise pyenv's 3.12.1, then any
# pyenv 3.12+ is used. PyPI is needed only when something must be installed.

# Prints the interpreter to create venvs with, or fails with a message: $PYTHON, else
# pyenv's 3.12.1, else any pyenv 3.12+, else python3.12, python3.13… or python3 on PATH
# when it is 3.12 or newer.
find_python312() {
    if [[ -n "${PYTHON:-}" ]]; then
        echo "$PYTHON"
        return
    fi
    local candidate
    for candidate in /root/.pyenv/versions/3.12.1/bin/python3 /root/.pyenv/versions/3.1[2-9]*/bin/python3; do
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return
        fi
    done
    for candidate in python3.12 python3.13 python3.14 python3.15 python3; do
        candidate="$(command -v "$candidate" 2>/dev/null)" || continue
        if "$candidate" -c 'import sys, venv; assert sys.version_info >= (3, 12)' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "$(basename "$0"): no Python >= 3.12 found (pyenv, or python3.12+ on PATH; set PYTHON=…)" >&2
    return 2
}

# Whether DIR is a usable venv of Python 3.12+ that was created at this path (a copied
# venv keeps the old path in its scripts' shebangs, so `chaos` would run another one).
venv_ok() {
    local venv="$1"
    "$venv/bin/python" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null || return 1
    local real
    real="$(cd "$venv" && pwd -P)"
    [[ "$(head -n 1 "$venv/bin/pip" 2>/dev/null)" == "#!$real/bin/python"* \
        || "$(head -n 1 "$venv/bin/pip" 2>/dev/null)" == "#!$venv/bin/python"* ]]
}

# ensure_venv DIR PACKAGE==VERSION… : (re)creates DIR if it is missing or not 3.12+, then
# installs the pins unless every one of them is already installed at that version.
ensure_venv() {
    local venv="$1"
    shift
    if ! venv_ok "$venv"; then
        local python
        python="$(find_python312)"
        echo "creating $venv with $python" >&2
        rm -rf "$venv"
        mkdir -p "$(dirname "$venv")"
        "$python" -m venv "$venv"
    fi
    local pin name version installed missing=()
    for pin in "$@"; do
        name="${pin%%==*}"
        version="${pin#*==}"
        installed="$("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)"
        [[ "$installed" == "$version" ]] || missing+=("$pin")
    done
    if ((${#missing[@]})); then
        echo "installing ${missing[*]} into $venv" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
    fi
}
