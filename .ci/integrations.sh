#!/usr/bin/env bash
# Installs notifier the way users do and runs it where they run it (README: "Install",
# "pre-commit"), on the committed HEAD of this repository:
#   1. `git clone` it into a temporary directory, `cargo install --locked --path <clone>
#      --root <tmp>`, and the installed binary checks a good and a bad settings file;
#   2. pre-commit itself (PyPI, in a venv under the target directory) on a temporary git
#      repository whose .pre-commit-config.yaml points at the clone (`repo: <path>`,
#      `rev: <HEAD>`): a bad settings file fails the hook and `git commit`, a good one
#      passes, a file the hook's `files` pattern does not match is not checked, and an
#      overridden `files` pattern is followed;
#   3. `cargo package --workspace` in the clone: every crate builds from its packaged
#      sources.
# One target directory for everything (CARGO_TARGET_DIR), so pre-commit's own
# `cargo install` reuses the release build of step 1. Each step prints its time.
# Needs: git, cargo, a python3 >= 3.9 (NOTIFIER_PRE_COMMIT_PYTHON, else pyenv's 3.12.1,
# else python3.12, else python3) and the network to crates.io and PyPI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
pre_commit_version="4.7.0"
# Both `cargo install`s build the release profile; unoptimised here, so that they cost a
# debug build instead of ~14 minutes of optimisation on 2 cores. What is tested is the
# installation and the hook, not the optimiser. NOTIFIER_INSTALL_OPTIMIZED=1 keeps the
# real release profile.
if [[ -z "${NOTIFIER_INSTALL_OPTIMIZED:-}" ]]; then
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256
  export CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_INCREMENTAL=false
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
step_start=$SECONDS
step() {
  echo "== $1"
  step_start=$SECONDS
}
took() { echo "   ok ($((SECONDS - step_start)) s)"; }
fail() {
  echo "FAILED: $1" >&2
  exit 1
}

if [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then
  echo "note: uncommitted changes are not part of this test: it installs the committed HEAD"
fi

bad_settings='notifications:
  - type: http
    url: https://hooks.example.com/chaos
    verify_tls: "false"
'
good_settings='notifications:
  - type: http
    url: https://hooks.example.com/chaos
'

step "cargo install --locked --path <clean clone>"
git clone --quiet --no-hardlinks "$repo" "$tmp/clone"
head="$(git -C "$tmp/clone" rev-parse HEAD)"
cargo install --locked --quiet --path "$tmp/clone" --root "$tmp/root"
notifier="$tmp/root/bin/notifier"
version="$("$notifier" --version)"
[[ "$version" == "notifier "*" (wire: chaostoolkit-lib "*")" ]] || fail "unexpected --version: $version"
printf '%s' "$good_settings" > "$tmp/good.yaml"
printf '%s' "$bad_settings" > "$tmp/bad.yaml"
"$notifier" check --quiet "$tmp/good.yaml" || fail "the installed notifier rejects a good file"
set +e
"$notifier" check --quiet "$tmp/bad.yaml" > "$tmp/bad.out"
status=$?
set -e
if [[ $status != 1 ]] || ! grep -q 'not-a-boolean' "$tmp/bad.out"; then
  fail "the installed notifier passes a bad file (exit $status)"
fi
took

step "pre-commit $pre_commit_version: the notifier-check hook from a local clone"
python=""
for candidate in "${NOTIFIER_PRE_COMMIT_PYTHON:-}" /root/.pyenv/versions/3.12.1/bin/python3 python3.12 python3; do
  if [[ -n "$candidate" ]] && command -v "$candidate" > /dev/null &&
    "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2> /dev/null; then
    python="$candidate"
    break
  fi
done
[[ -n "$python" ]] || fail "pre-commit needs a python3 >= 3.9 (set NOTIFIER_PRE_COMMIT_PYTHON)"
venv="$CARGO_TARGET_DIR/pre-commit-venv"
if ! "$venv/bin/pre-commit" --version 2> /dev/null | grep -qx "pre-commit $pre_commit_version"; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pre-commit==$pre_commit_version"
fi
pre_commit="$venv/bin/pre-commit"
export PRE_COMMIT_HOME="$tmp/pre-commit-home"
project="$tmp/project"
mkdir -p "$project/.chaostoolkit" "$project/ci" "$project/deploy"
git -C "$project" init --quiet
gitc() { git -C "$project" -c user.name=ci -c user.email=ci@example.invalid -c commit.gpgsign=false "$@"; }
write_config() {
  {
    echo "repos:"
    echo "  - repo: $tmp/clone"
    echo "    rev: $head"
    echo "    hooks:"
    echo "      - id: notifier-check"
    [[ -z "${1:-}" ]] || echo "        files: $1"
  } > "$project/.pre-commit-config.yaml"
}
write_config
printf '%s' "$bad_settings" > "$project/.chaostoolkit/settings.yaml"
printf '%s' "$good_settings" > "$project/ci/chaostoolkit-settings.yml"
# Broken, but not a settings file by the hook's names: never checked.
printf '%s' "$bad_settings" > "$project/deploy/ctk.yaml"
printf 'not: [yaml\n' > "$project/other.yaml"
gitc add -A

run_hook() {
  set +e
  (cd "$project" && "$pre_commit" run --all-files --color never "$@") > "$tmp/hook.out" 2>&1
  hook_status=$?
  set -e
}
install_start=$SECONDS
run_hook
echo "   (first run, with pre-commit's cargo install of the hook: $((SECONDS - install_start)) s)"
[[ $hook_status == 1 ]] || { cat "$tmp/hook.out"; fail "the hook did not fail on a bad settings file"; }
grep -q -- '--> .chaostoolkit/settings.yaml:4:17' "$tmp/hook.out" || { cat "$tmp/hook.out"; fail "no diagnostic at .chaostoolkit/settings.yaml:4:17"; }
grep -q 'FAILED: 2 files checked, 1 error' "$tmp/hook.out" || { cat "$tmp/hook.out"; fail "the hook did not check exactly the two settings files"; }

# A commit with the bad file is refused; fixed, it goes through.
(cd "$project" && "$pre_commit" install --hook-type pre-commit > /dev/null)
if gitc commit --quiet -m "bad settings" > "$tmp/commit.out" 2>&1; then
  cat "$tmp/commit.out"
  fail "git commit went through with a bad settings file"
fi
printf '%s' "$good_settings" > "$project/.chaostoolkit/settings.yaml"
gitc add -A
gitc commit --quiet -m "good settings" > "$tmp/commit.out" 2>&1 || { cat "$tmp/commit.out"; fail "git commit refused good settings files"; }
run_hook
[[ $hook_status == 0 ]] || { cat "$tmp/hook.out"; fail "the hook failed on good settings files"; }

# `files` overridden in the user's config: the hook follows it.
write_config '^deploy/ctk\.yaml$'
gitc add -A
run_hook
if [[ $hook_status != 1 ]] || ! grep -q -- '--> deploy/ctk.yaml:4:17' "$tmp/hook.out" ||
  ! grep -q 'FAILED: 1 file checked' "$tmp/hook.out"; then
  cat "$tmp/hook.out"
  fail "an overridden files pattern was not followed"
fi
took

step "cargo package --workspace (each crate built from its packaged sources)"
# Built like the test suite's dependencies (the workspace's `[profile.dev.package."*"]
# debug = false`, which the packaged library crates do not carry), so that the verification
# reuses what `cargo test` built instead of building everything again with debug info.
# The verification takes our crates from a local registry under the target directory, and
# cargo treats a registry crate of an unchanged version as unchanged: it neither unpacks
# it again into $CARGO_HOME/registry/src nor rebuilds it. Drop what an earlier run left of
# our crates there and in the target directory (the workspace's own builds share their
# names), so a second run checks today's sources, not the ones of the first.
(
  cd "$tmp/clone"
  packages=$(cargo metadata --no-deps --format-version 1 --locked |
    "$python" -c 'import json, sys; print(" ".join(p["name"] + "-" + p["version"] for p in json.load(sys.stdin)["packages"]))')
  for package in $packages; do
    # Local registries (like the one `cargo package` makes) unpack into `-<hash>` directories.
    rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/"$package"
    cargo clean --quiet -p "${package%-*}"
  done
  CARGO_PROFILE_DEV_DEBUG=false cargo package --workspace --locked --quiet
)
took

echo "== integrations ok ($((SECONDS - started)) s)"
