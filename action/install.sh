#!/usr/bin/env bash
# The install steps of action.yml: builds notifier from this action's own source with
#   cargo install --locked --path <action> --root <root>
# and puts <root>/bin on the job's PATH ($GITHUB_PATH). A root restored by actions/cache
# that already holds a working notifier is used as is.
#   --cache-key   print `root=…` and `key=…` (a hash of the action's source) to
#                 $GITHUB_OUTPUT, for actions/cache; nothing is built.
#   NOTIFIER_ROOT the install root [default: $RUNNER_TOOL_CACHE/notifier-action/<hash>]
#   CARGO         the cargo to use [default: cargo on PATH]
# tests/action.rs runs this script with a stand-in cargo.
set -euo pipefail

src="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"

# Every file of the action's source but build output and git's own, names and contents.
source_hash() {
  (
    cd "$src"
    find . \( -path ./target -o -path ./.git \) -prune -o -type f -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
  )
}

if [[ "${1:-}" == --cache-key ]]; then
  hash="$(source_hash)"
  root="${NOTIFIER_ROOT:-${RUNNER_TOOL_CACHE:-${HOME}/.cache}/notifier-action/$hash}"
  key="notifier-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$hash"
  echo "root=$root" >> "${GITHUB_OUTPUT:-/dev/stdout}"
  echo "key=$key" >> "${GITHUB_OUTPUT:-/dev/stdout}"
  exit 0
fi

root="${NOTIFIER_ROOT:-${RUNNER_TOOL_CACHE:-${HOME}/.cache}/notifier-action/$(source_hash)}"
if [[ -x "$root/bin/notifier" ]] && "$root/bin/notifier" --version; then
  echo "notifier restored from the cache: $root/bin/notifier"
else
  cargo="${CARGO:-cargo}"
  if ! command -v "$cargo" > /dev/null; then
    echo "::error title=notifier check::cargo is needed to build notifier; add a Rust toolchain step (for example dtolnay/rust-toolchain@stable) before this action"
    exit 1
  fi
  echo "Building notifier from $src (a few minutes; later runs restore it from the cache)"
  "$cargo" install --locked --path "$src" --root "$root"
  "$root/bin/notifier" --version
fi
echo "$root/bin" >> "${GITHUB_PATH:-/dev/null}"
