#!/usr/bin/env bash
# style_shell: shellcheck over every shell script of deploy/ and tests/ (by
# name, *.sh, or by a #! line naming sh or bash) and .ci/run, following the
# files they source.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if ! command -v shellcheck >/dev/null 2>&1; then
	echo "style_shell: shellcheck not found (deploy/deps.sh installs it)" >&2
	exit 1
fi

scripts=(.ci/run)
while IFS= read -r -d '' f; do
	if [[ $f == *.sh ]] || head -n 1 "$f" | grep -qE '^#!.*\b(ba)?sh\b'; then
		scripts+=("$f")
	fi
done < <(find deploy tests -type f -not -path '*/node_modules/*' -not -name '*.py' -print0 | LC_ALL=C sort -z)

if shellcheck --external-sources "${scripts[@]}"; then
	echo "style_shell: ${#scripts[@]} scripts, no findings: ${scripts[*]}"
else
	echo "style_shell: shellcheck found problems (scripts: ${scripts[*]})"
	exit 1
fi
