#!/usr/bin/env bash
# style_format: clang-format in check mode (--dry-run -Werror, with the
# repository's .clang-format) over the C sources of api/, tests/unit/ and tests/fuzz/.
# Prints `path:line: ...` for each file it would change (the first line, and
# how many), then the share of all lines; exits 1 if it would change any.
# Fix a file with `clang-format -i FILE`. CLANG_FORMAT names another binary.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null 2>&1; then
	echo "style_format: $cf not found (deploy/deps.sh installs clang-format)" >&2
	exit 1
fi
# The options are tuned for Debian 12's clang-format 14; others format differently.
version=$("$cf" --version)
case $version in
*" version 14."*) ;;
*) echo "style_format: warning: .clang-format is tuned for clang-format 14, this is: $version" >&2 ;;
esac

mapfile -t files < <(find api tests/unit tests/fuzz -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
total=0
changed=0
bad=0
for f in "${files[@]}"; do
	total=$((total + $(wc -l <"$f")))
	if out=$("$cf" --style=file --dry-run -Werror "$f" 2>&1); then
		continue
	fi
	lines=$(sed -nE "s|^$f:([0-9]+):[0-9]+: error: .*|\1|p" <<<"$out" | sort -n -u)
	if [[ -z $lines ]]; then
		# Not a formatting difference: a bad .clang-format, an unreadable file...
		printf '%s:1: clang-format failed: %s\n' "$f" "$out"
		bad=$((bad + 1))
		continue
	fi
	n=$(wc -l <<<"$lines")
	printf '%s:%s: clang-format would change %d line(s) in this file, the first here\n' \
		"$f" "$(head -n 1 <<<"$lines")" "$n"
	changed=$((changed + n))
	bad=$((bad + 1))
done

if ((bad > 0)); then
	awk -v c="$changed" -v t="$total" -v b="$bad" -v n="${#files[@]}" 'BEGIN {
		printf "style_format: %d of %d files, %d of %d lines (%.2f%%) would change\n",
		    b, n, c, t, 100 * c / t }'
	exit 1
fi
echo "style_format: ${#files[@]} files, $total lines, all formatted"
