#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded number of executions (10 million unless
# --runs says otherwise; --seconds also bounds each target in time), on its seeds and
# the corpus the CTest runs grew, and prints per target the executions, the coverage
# (cov: edges, ft: features) and the findings (the crash, leak, timeout and
# out-of-memory inputs libFuzzer wrote). Builds build-fuzz/ first (clang). Exits 1
# when a target found something.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

usage() {
	cat <<EOF
usage: tests/fuzz/long.sh [--runs N] [--seconds S] [--jobs J] [TARGET...]

  --runs N     executions per target (default 10000000)
  --seconds S  stop a target after S seconds even before N runs (default: no limit)
  --jobs J     targets run side by side (default 1)
  TARGET       body, query, router, token, headers, filename, idempotency, problem
               (default: all)
EOF
}

runs=10000000
seconds=0
jobs=1
targets=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--runs) runs=${2:?--runs needs a number}; shift 2 ;;
	--seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
	--jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done

build="build-fuzz"
CC=clang cmake -S . -B "$build" -DDANVAN_FUZZ=ON -DDANVAN_TESTS=OFF --log-level=WARNING >/dev/null
cmake --build "$build" -j2 >/dev/null
dir=$build/tests/fuzz
if [[ ${#targets[@]} -eq 0 ]]; then
	targets=(body query router token headers filename idempotency problem)
fi
out=$dir/long
mkdir -p "$out"

# One target: its log in $out/NAME.log, its findings in $out/NAME-findings/.
run_one() {
	local t=$1 art=$out/$1-findings
	mkdir -p "$art" "$dir/corpus/$t"
	"$dir/fuzz_$t" -runs="$runs" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$art/" "$dir/corpus/$t" "tests/fuzz/corpus/$t" \
		>"$out/$t.log" 2>&1 || true
}

started=$(date +%s)
running=0
for t in "${targets[@]}"; do
	if [[ ! -x $dir/fuzz_$t ]]; then
		echo "no target fuzz_$t" >&2
		exit 2
	fi
	rm -rf "${out:?}/$t-findings"
	run_one "$t" &
	running=$((running + 1))
	if ((running >= jobs)); then
		wait -n
		running=$((running - 1))
	fi
done
wait

found=0
printf '%-12s %12s %7s %7s %9s %8s\n' target executions cov ft findings seconds
for t in "${targets[@]}"; do
	log=$out/$t.log
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
	secs=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
	ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
	n=$(find "$out/$t-findings" -type f | wc -l)
	if [[ -z $execs ]]; then
		# It did not finish a run: that hides nothing, it fails.
		echo "$t: did not run to its end; see $log" >&2
		n=$((n + 1))
	fi
	found=$((found + n))
	printf '%-12s %12s %7s %7s %9s %8s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
		"$n" "${secs:-?}"
	if ((n > 0)); then
		find "$out/$t-findings" -type f -printf '  %p\n'
		grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY)|invariant broken' "$log" |
			sed 's/^/  /' || true
	fi
done
echo "total: $(($(date +%s) - started)) s, $found finding(s); logs in $out/"
((found == 0))
