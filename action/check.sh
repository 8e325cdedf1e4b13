#!/usr/bin/env bash
# The run step of action.yml: `notifier check` on the given settings files, with
#   NOTIFIER_PATHS          files and globs, separated by spaces or new lines
#   NOTIFIER_DENY_WARNINGS  `true`: warnings fail too
#   NOTIFIER_SARIF_FILE     also write SARIF 2.1.0 there (empty: no SARIF)
#   NOTIFIER                the binary [default: notifier on PATH]
# Problems become GitHub annotations (`--format github`); the human report goes to the
# job summary ($GITHUB_STEP_SUMMARY); outputs `exit-code` and `sarif-file` go to
# $GITHUB_OUTPUT. Exits with notifier check's status. tests/action.rs runs this script.
set -uo pipefail
# dotglob: `**` must reach `.chaostoolkit/`, where the settings usually are.
shopt -s globstar nullglob dotglob

notifier="${NOTIFIER:-notifier}"
deny=()
case "${NOTIFIER_DENY_WARNINGS:-false}" in
  true) deny=(--deny-warnings) ;;
  false | "") ;;
  *) echo "::error title=notifier check::deny-warnings must be true or false, not '${NOTIFIER_DENY_WARNINGS}'"; exit 2 ;;
esac

files=()
read -r -d '' -a words <<< "${NOTIFIER_PATHS:-}"
for word in "${words[@]}"; do
  if [[ "$word" == *[\*\?\[]* ]]; then
    # Unquoted on purpose: the glob is expanded here (words were split above).
    # shellcheck disable=SC2206
    matches=($word)
    if (( ${#matches[@]} == 0 )); then
      echo "::warning title=notifier check::no file matches '$word'"
    fi
    files+=("${matches[@]}")
  else
    files+=("$word")
  fi
done
if (( ${#files[@]} == 0 )); then
  echo "::error title=notifier check::no settings file to check (paths: '${NOTIFIER_PATHS:-}')"
  exit 2
fi

"$notifier" --version
"$notifier" check --format github "${deny[@]}" -- "${files[@]}"
status=$?

sarif="${NOTIFIER_SARIF_FILE:-}"
if [[ -n "$sarif" ]]; then
  mkdir -p "$(dirname -- "$sarif")"
  # Same files, same verdict: the status is the one above.
  "$notifier" check --format sarif "${deny[@]}" -- "${files[@]}" > "$sarif" 2>/dev/null
fi

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  {
    echo '### notifier check'
    echo
    echo '```text'
    "$notifier" check --color never "${deny[@]}" -- "${files[@]}" 2>&1
    echo '```'
  } >> "$GITHUB_STEP_SUMMARY"
fi

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "exit-code=$status"
    echo "sarif-file=$sarif"
  } >> "$GITHUB_OUTPUT"
fi
exit "$status"
