#!/usr/bin/env bash
# Loopback benchmark of the province's reports: seeds a synthetic province
# (danvan seed --synthetic) of each size in BENCH_SIZES communes, warms the
# cache, then times every report at the province root through HTTP with the
# province's service account (curl, median of BENCH_RUNS) and prints the
# EXPLAIN (ANALYZE, BUFFERS) plan of each statement (without JIT, as the
# server's sessions run). A measurement, not a test; writes
# var/bench/reports.txt. Environment: BENCH_SIZES ("100 3321"), BENCH_RUNS
# (7), BENCH_GROUP_BY (commune), BENCH_PLANS (1: print plans).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$REPO"

BENCH_SIZES=${BENCH_SIZES:-100 3321}
BENCH_RUNS=${BENCH_RUNS:-7}
BENCH_GROUP_BY=${BENCH_GROUP_BY:-commune}
BENCH_PLANS=${BENCH_PLANS:-1}
REPORTS=(obligations assignments models inspections scores)
TARGET_MS=([100]=50 [3321]=1000)

OUT_DIR=$REPO/var/bench
PG_DIR=$REPO/var/bench-reports-pg
RUN_DIR=$OUT_DIR/reports-run
OUT=$OUT_DIR/reports.txt
DANVAN=$REPO/build/danvan
PSQL=/usr/lib/postgresql/15/bin/psql

log() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	log "$*"
	exit 1
}

[[ "$BENCH_RUNS" =~ ^[1-9][0-9]?$ ]] || die "BENCH_RUNS must be 1..99"
for n in $BENCH_SIZES; do
	if ! [[ "$n" =~ ^[1-9][0-9]*$ ]] || ((n > 20000)); then
		die "BENCH_SIZES holds numbers of communes up to 20000, not '$n'"
	fi
done
case $BENCH_GROUP_BY in
commune | unit | kind) ;;
*) die "BENCH_GROUP_BY is commune, unit or kind" ;;
esac
command -v curl >/dev/null || die "curl is missing"
[[ -x "$DANVAN" ]] || die "build danvan first (cmake --build build)"

# A port in 55000-59999 that no TCP listener uses.
free_port() {
	local used p i
	used=$(ss -Hltn 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
	for ((i = 0; i < 5000; i++)); do
		p=$((55000 + (RANDOM + i) % 5000))
		grep -qx "$p" <<<"$used" || {
			printf '%s\n' "$p"
			return 0
		}
	done
	return 1
}

SERVER_PID=''
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	trap - EXIT INT TERM
	if [[ -n $SERVER_PID ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	deploy/pg.sh destroy --dir "$PG_DIR" >/dev/null 2>&1 || true
	rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$OUT_DIR" "$RUN_DIR"
deploy/pg.sh destroy --dir "$PG_DIR" >/dev/null 2>&1 || true
deploy/pg.sh start --throwaway --dir "$PG_DIR" --port "$(free_port)" >&2
eval "$(deploy/pg.sh env --dir "$PG_DIR")"
export DANVAN_JWT_SECRET_FILE=$RUN_DIR/jwt.secret
head -c 48 /dev/urandom | base64 -w0 >"$DANVAN_JWT_SECRET_FILE"
"$DANVAN" migrate 2>>"$RUN_DIR/danvan.log" || die "migrate failed"

# The median of the numbers on standard input.
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Milliseconds of one GET of report $1 at the province root.
time_report() {
	local ms code
	read -r code ms < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
		-H "Authorization: Bearer $KEY" \
		"http://$LISTEN/api/v1/reports/$1?group_by=$BENCH_GROUP_BY")
	[[ $code == 200 ]] || die "GET /api/v1/reports/$1 answered $code"
	awk -v s="$ms" 'BEGIN { printf "%.1f\n", s * 1000 }'
}

PROVINCE=5eed0000-0000-4000-8000-000000000001
KINDS='{province,department,commune,office,front,party,village,other}'

{
	printf '# danvan reports benchmark, %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '# %s, %d CPU(s), load %s; median of %d runs after warming, group_by=%s\n' \
		"$(uname -n)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
		"$BENCH_RUNS" "$BENCH_GROUP_BY"
} | tee "$OUT"

for n in $BENCH_SIZES; do
	log "seeding $n commune(s)"
	start=$(date +%s)
	"$DANVAN" seed --synthetic "$n" "$RUN_DIR/credentials.json" \
		2>>"$RUN_DIR/danvan.log" || die "seed failed; see $RUN_DIR/danvan.log"
	seeded=$(($(date +%s) - start))
	"$PSQL" -X -q "$DANVAN_OWNER_DATABASE_URL" -c 'VACUUM ANALYZE' >/dev/null 2>&1
	KEY=$(/usr/bin/python3 -c 'import json, sys
print(next(e["api_key"] for e in json.load(open(sys.argv[1]))
           if e["role"] == "service"))' "$RUN_DIR/credentials.json")
	read -r units subs obligations assignments sheets < <("$PSQL" -X -qAt -F' ' \
		"$DANVAN_DATABASE_URL" -c "SELECT (SELECT count(*) FROM units),
		 (SELECT count(*) FROM submissions), (SELECT count(*) FROM milestone_units),
		 (SELECT count(*) FROM assignments), (SELECT count(*) FROM score_sheets)")
	LISTEN=127.0.0.1:$(free_port)
	DANVAN_LISTEN=$LISTEN DANVAN_STATEMENT_TIMEOUT_MS=60000 \
		DANVAN_TRANSACTION_TIMEOUT_MS=60000 "$DANVAN" serve \
		>>"$RUN_DIR/danvan.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 50); do
		curl -sf "http://$LISTEN/readyz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	{
		printf '\n## %d communes: %d units, %d submissions, %d expected submissions, %d assignments, %d score sheets (seeded in %d s)\n' \
			"$n" "$units" "$subs" "$obligations" "$assignments" "$sheets" "$seeded"
		printf '%-12s %10s %10s %10s %8s\n' report median_ms min_ms max_ms target
	} | tee -a "$OUT"
	for r in "${REPORTS[@]}"; do
		time_report "$r" >/dev/null
		time_report "$r" >/dev/null
		times=$(for _ in $(seq "$BENCH_RUNS"); do time_report "$r"; done)
		med=$(median <<<"$times")
		target=${TARGET_MS[$n]:-}
		verdict=''
		if [[ -n $target ]]; then
			verdict=$(awk -v m="$med" -v t="$target" \
				'BEGIN { print (m <= t ? "PASS" : "MISS") " " t }')
		fi
		printf '%-12s %10s %10s %10s %8s\n' "$r" "$med" \
			"$(sort -n <<<"$times" | head -1)" "$(sort -n <<<"$times" | tail -1)" \
			"$verdict" | tee -a "$OUT"
	done
	kill "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=''
	((BENCH_PLANS)) || continue
	for r in "${REPORTS[@]}"; do
		{
			printf '\n### plan of reports_%s at %d communes\n' "$r" "$n"
			"$PSQL" -X -q "$DANVAN_DATABASE_URL" <<SQL
SET jit = off;
PREPARE p (uuid, uuid, text, int, uuid, text, date, date, text, text[], int) AS
$("$DANVAN" sql "reports_$r");
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE p ('$PROVINCE', NULL,
 '$BENCH_GROUP_BY', NULL, NULL, NULL, NULL, NULL, NULL, '$KINDS', 5000);
SQL
		} >>"$OUT"
	done
done
log "written to $OUT"
