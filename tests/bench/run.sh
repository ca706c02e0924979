#!/usr/bin/env bash
# Loopback benchmark of danvan against two ceilings, nginx answering /healthz by itself and
# pgbench running /readyz's one-row read; prints a table with PASS/MISS against the targets and
# writes it to var/bench/last.txt. A measurement, not a test. Environment: BENCH_SECONDS (10),
# BENCH_THREADS (nproc: DANVAN_THREADS), BENCH_RUNS (1: median of), BENCH_ONLY (regex), BENCH_STRICT.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$REPO"

BENCH_SECONDS=${BENCH_SECONDS:-10}
# danvan's own default: more threads than CPUs stalled requests for up to 1.4 s.
BENCH_THREADS=${BENCH_THREADS:-$(nproc)}
BENCH_ONLY=${BENCH_ONLY:-}
BENCH_RUNS=${BENCH_RUNS:-1}       # runs per measurement; the median is reported
BENCH_STRICT=${BENCH_STRICT:-0}   # 1: exit 1 when a target is missed
WRK_THREADS=2
WRK_CONNECTIONS=32
NGINX_WORKERS=1                   # one worker: the ceiling of a single event loop
PGBENCH_CLIENTS=(4 8 16)

OUT_DIR=$REPO/var/bench
RAW_DIR=$OUT_DIR/raw   # this run's wrk and pgbench outputs and danvan's stderr
PG_DIR=$REPO/var/bench-pg
RUN_DIR=$OUT_DIR/run   # this run's server copy, key, nginx and SQL files; removed on exit
DANVAN=$REPO/build/danvan

# The one-row read that /readyz makes, run by pgbench as the same role.
ONE_ROW_SQL='SELECT max(version) FROM schema_migrations;'

# Targets.
TARGET_HEALTHZ_RATIO=1.0
TARGET_READ_RATIO=0.6
TARGET_READ_P99_MS=10
TARGET_RSS_MIB=32

log() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	log "$*"
	exit 1
}

if ! [[ "$BENCH_SECONDS" =~ ^[1-9][0-9]*$ ]] || ((BENCH_SECONDS > 300)); then
	die "BENCH_SECONDS must be 1..300, not '$BENCH_SECONDS'"
fi
[[ "$BENCH_THREADS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_THREADS must be a positive integer"
[[ "$BENCH_RUNS" =~ ^[1-9]$ ]] || die "BENCH_RUNS must be 1..9"
HOW_RUNS=''
((BENCH_RUNS == 1)) || HOW_RUNS=", median of $BENCH_RUNS"

# --- tools ---------------------------------------------------------------------------------

if [[ -f deploy/deps.sh ]]; then
	# shellcheck source=/dev/null
	source deploy/deps.sh
fi
if declare -F deps_install >/dev/null; then
	deps_install --bench || die "could not install the benchmark's packages"
fi
for tool in wrk nginx pgbench curl /usr/bin/python3; do
	command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (Debian: wrk, nginx-light, postgresql-15, curl)"
done

mkdir -p "$OUT_DIR"
if [[ ! -x "$DANVAN" ]]; then
	log "building $DANVAN"
	{ cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		cmake --build build -j2; } >"$OUT_DIR/build.log" 2>&1 ||
		die "build failed; see var/bench/build.log"
fi

# --- start and stop --------------------------------------------------------------------------

DANVAN_PID=''
NGINX_PID=''
CHILD_PID=''
PG_STARTED=0

stop_pid() { # stop_pid PID: SIGTERM, then SIGKILL after 10 s.
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[[ -n "$CHILD_PID" ]] && stop_pid "$CHILD_PID"
	[[ -n "$DANVAN_PID" ]] && stop_pid "$DANVAN_PID"
	[[ -n "$NGINX_PID" ]] && stop_pid "$NGINX_PID"
	if ((PG_STARTED)); then
		deploy/pg.sh destroy --dir "$PG_DIR" >/dev/null 2>&1 || log "could not destroy $PG_DIR"
	fi
	rm -rf "$RUN_DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bounded SECS OUTFILE CMD...: runs CMD for at most SECS seconds with its output in OUTFILE.
# It runs in the background so that a signal to this script is handled at once.
bounded() {
	local secs=$1 outfile=$2 rc=0
	shift 2
	timeout "$secs" "$@" >"$outfile" 2>&1 &
	CHILD_PID=$!
	wait "$CHILD_PID" || rc=$?
	CHILD_PID=''
	return "$rc"
}

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL SECONDS: waits until URL answers 200.
wait_http() {
	local url=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		if [[ $(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" || true) == 200 ]]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

rm -rf "$RUN_DIR" "$RAW_DIR"
mkdir -p "$RUN_DIR" "$RAW_DIR"

# A cluster left by an interrupted run goes first.
deploy/pg.sh destroy --dir "$PG_DIR" >/dev/null 2>&1 || true
PG_PORT=$(free_port)
PG_STARTED=1
deploy/pg.sh start --throwaway --dir "$PG_DIR" --port "$PG_PORT" 2>"$RUN_DIR/pg.log" ||
	{ cat "$RUN_DIR/pg.log" >&2; die "could not start the cluster"; }
eval "$(deploy/pg.sh env --dir "$PG_DIR")"
export DANVAN_DATABASE_URL DANVAN_OWNER_DATABASE_URL

# The server runs from a copy, so a rebuild during the run does not change what is measured.
cp "$DANVAN" "$RUN_DIR/danvan"

"$RUN_DIR/danvan" migrate >"$RUN_DIR/migrate.log" 2>&1 ||
	{ cat "$RUN_DIR/migrate.log" >&2; die "danvan migrate failed"; }
# The demo plan and accounts: the authenticated scenarios read them.
"$RUN_DIR/danvan" seed "$RUN_DIR/credentials.json" >"$RUN_DIR/seed.log" 2>&1 ||
	{ cat "$RUN_DIR/seed.log" >&2; die "danvan seed failed"; }

# A signing key for this run only; a scenario that needs a token can mint one with it.
(umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$RUN_DIR/jwt.secret")
export DANVAN_JWT_SECRET_FILE=$RUN_DIR/jwt.secret

DANVAN_PORT=$(free_port)
DANVAN_URL=http://127.0.0.1:$DANVAN_PORT
# The access log (stdout) is written, but to /dev/null: the disk is not what is measured.
DANVAN_LISTEN=127.0.0.1:$DANVAN_PORT DANVAN_THREADS=$BENCH_THREADS \
	"$RUN_DIR/danvan" serve >/dev/null 2>"$RAW_DIR/danvan.stderr.log" &
DANVAN_PID=$!
wait_http "$DANVAN_URL/healthz" 15 || die "danvan did not answer on $DANVAN_URL; see $RAW_DIR/danvan.stderr.log"
wait_http "$DANVAN_URL/readyz" 15 || die "danvan is not ready (/readyz); see $RAW_DIR/danvan.stderr.log"

NGINX_PORT=$(free_port)
NGINX_URL=http://127.0.0.1:$NGINX_PORT
mkdir -p "$RUN_DIR/nginx"
cat >"$RUN_DIR/nginx/nginx.conf" <<EOF
daemon off;
worker_processes $NGINX_WORKERS;
pid $RUN_DIR/nginx/nginx.pid;
error_log $RUN_DIR/nginx/error.log warn;
events {
	worker_connections 1024;
}
http {
	access_log off;
	keepalive_timeout 65s;
	keepalive_requests 1000000;
	client_body_temp_path $RUN_DIR/nginx/body;
	proxy_temp_path $RUN_DIR/nginx/proxy;
	fastcgi_temp_path $RUN_DIR/nginx/fastcgi;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		location = /healthz {
			default_type application/json;
			return 200 '{"status":"ok"}';
		}
	}
}
EOF
nginx -p "$RUN_DIR/nginx" -c "$RUN_DIR/nginx/nginx.conf" -e "$RUN_DIR/nginx/error.log" &
NGINX_PID=$!
wait_http "$NGINX_URL/healthz" 10 || { cat "$RUN_DIR/nginx/error.log" >&2 || true; die "nginx did not start"; }

# --- measurements ----------------------------------------------------------------------------

declare -a S_NAME=() S_RPS=() S_P99=() S_ERR=() S_NOTE=()
declare -A RPS=() P99=() ERR=()

# record NAME RPS P99_MS ERRORS NOTE
record() {
	S_NAME+=("$1") S_RPS+=("$2") S_P99+=("$3") S_ERR+=("$4") S_NOTE+=("$5")
	RPS[$1]=$2 P99[$1]=$3 ERR[$1]=$4
}

wanted() {
	[[ -z "$BENCH_ONLY" || "$1" =~ $BENCH_ONLY ]]
}

# Reads wrk's output: prints "REQ_PER_SEC P99_MS ERRORS" (errors: non-2xx/3xx + socket errors).
parse_wrk() {
	awk '
	function ms(v,   n, u) {
		n = v + 0
		u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") return n / 1000
		if (u == "ms") return n
		if (u == "s")  return n * 1000
		if (u == "m")  return n * 60000
		if (u == "h")  return n * 3600000
		return -1
	}
	$1 == "Requests/sec:" { rps = $2 }
	$1 == "99%"           { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { err += $NF }
	/Socket errors:/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { v = $i; sub(/,/, "", v); err += v }
	}
	END {
		printf "%s %s %d\n", (rps == "" ? "-" : sprintf("%.1f", rps)),
		    (p99 == "" || p99 < 0 ? "-" : sprintf("%.3f", p99)), err
	}'
}

# median: reads lines "RATE ..." and prints the line with the median RATE.
median() {
	local lines
	lines=$(sort -g -k1,1)
	sed -n "$((($(wc -l <<<"$lines") + 1) / 2))p" <<<"$lines"
}

# scenario NAME URL [extra wrk args, e.g. -H 'Authorization: Bearer …']
# Runs wrk against URL (a one-second warm-up, then BENCH_RUNS runs) and records under NAME the
# run with the median rate; errors are summed over the runs.
scenario() {
	local name=$1 url=$2
	shift 2
	wanted "$name" || return 0
	local i out rps p99 err total=0 runs=()
	bounded 30 /dev/null wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d1s "$@" "$url" || true
	for ((i = 1; i <= BENCH_RUNS; i++)); do
		log "$name: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${BENCH_SECONDS}s $url (run $i)"
		out=$RAW_DIR/$name.$i.wrk.txt
		bounded $((BENCH_SECONDS + 30)) "$out" wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" \
			-d"${BENCH_SECONDS}s" --latency "$@" "$url" || {
			cat "$out" >&2
			die "wrk failed on $name"
		}
		read -r rps p99 err < <(parse_wrk <"$out")
		runs+=("$rps $p99")
		total=$((total + err))
	done
	read -r rps p99 < <(printf '%s\n' "${runs[@]}" | median)
	record "$name" "$rps" "$p99" "$total" "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS$HOW_RUNS"
}

# pgbench_ceiling NAME SQLFILE [PGBENCH ARGS]: pgbench's tps (median of BENCH_RUNS) at each of
# PGBENCH_CLIENTS, as danvan_app, and the best of them.
pgbench_ceiling() {
	local name=$1 file=$2 c i out tps runs best=0 best_c=0
	shift 2 # the rest: extra pgbench arguments (-D name=value)
	wanted "$name" || return 0
	for c in "${PGBENCH_CLIENTS[@]}"; do
		runs=()
		for ((i = 1; i <= BENCH_RUNS; i++)); do
			log "$name: pgbench -c$c -j2 -T$BENCH_SECONDS (run $i)"
			out=$RAW_DIR/${name}_c$c.$i.pgbench.txt
			bounded $((BENCH_SECONDS + 60)) "$out" pgbench -n -M prepared -f "$file" \
				-T "$BENCH_SECONDS" -j 2 -c "$c" "$@" \
				-h "$DANVAN_PG_HOST" -p "$DANVAN_PG_PORT" -U danvan_app danvan || {
				cat "$out" >&2
				die "pgbench failed"
			}
			tps=$(awk '$1 == "tps" && $2 == "=" { printf "%.1f", $3; exit }' "$out")
			[[ -n "$tps" ]] || die "could not read pgbench's tps in $out"
			runs+=("$tps")
		done
		tps=$(printf '%s\n' "${runs[@]}" | median)
		record "${name}_c$c" "$tps" "-" 0 "pgbench -c$c -j2 -M prepared$HOW_RUNS"
		if awk -v a="$tps" -v b="$best" 'BEGIN { exit !(a > b) }'; then
			best=$tps best_c=$c
		fi
	done
	record "${name}_best" "$best" "-" 0 "best: -c$best_c"
}

printf '%s\n' "$ONE_ROW_SQL" >"$RUN_DIR/one_row.sql"

# GET /api/v1/plans/{id}/tasks as the village officer of the demo, against pgbench running
# the handler's own statement (danvan sql tasks_list) with the same parameters.
DEMO_PLAN=5eed0000-0000-4000-8000-0000000000a2
OFFICER_UNIT=5eed0000-0000-4000-8000-000000000021
OFFICER_PASSWORD=$(/usr/bin/python3 -c '
import json, sys
print([a for a in json.load(open(sys.argv[1])) if a["role"] == "officer"][0]["password"])
' "$RUN_DIR/credentials.json")
TOKEN=$(curl -sf -H 'Content-Type: application/json' \
	-d "{\"username\":\"thon1\",\"password\":\"$OFFICER_PASSWORD\"}" \
	"$DANVAN_URL/api/v1/auth/token" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') ||
	die "could not sign in as the demo officer"
# shellcheck disable=SC2016 # $1, $2... are the statement's placeholders, not shell
"$RUN_DIR/danvan" sql tasks_list | sed -e 's/\$1/:unit/g' -e 's/\$2/:plan/g' \
	-e 's/\$3::text/NULL::text/g; s/\$3/NULL::text/g' -e 's/\$4/51/g' >"$RUN_DIR/tasks.sql"
PGBENCH_DEFINES=(-D "unit=$OFFICER_UNIT" -D "plan=$DEMO_PLAN")

# POST /api/v1/submissions as the same officer, each with its own Idempotency-Key, against
# pgbench running the same statements in one transaction: the idempotency claim, the
# context read, the INSERT with its audit event, the stored answer.
OFFICER_ID=$(psql -X -qAt "$DANVAN_OWNER_DATABASE_URL" -c "SELECT id FROM users WHERE username = 'thon1'")
cat >"$RUN_DIR/submit.lua" <<'LUA'
local n = 0
local auth = "Bearer " .. os.getenv("BENCH_TOKEN")
local body = '{"unit_id":"' .. os.getenv("BENCH_UNIT") ..
    '","kind":"progress_report","title":"Bao cao tien do (bench)"}'
function setup(thread)
	thread:set("tid", math.random(1, 1000000000))
end
function request()
	n = n + 1
	return wrk.format("POST", nil, {["Content-Type"] = "application/json",
	    ["Authorization"] = auth,
	    ["Idempotency-Key"] = string.format("bench-%d-%d", tid, n)}, body)
end
LUA
{
	echo '\set k random(1, 2000000000)'
	echo 'BEGIN;'
	for stmt in idem_timeout idem_claim submissions_context submissions_create idem_store; do
		# shellcheck disable=SC2016 # the $ is Python's and SQL's, not the shell's
		"$RUN_DIR/danvan" sql "$stmt" | /usr/bin/python3 -c '
import re, sys
# The values the server binds, as pgbench variables and literals.
v = {
    "idem_claim": {1: ":user", 2: "(:k)::text", 3: "'"'"'h'"'"'"},
    "submissions_context": {1: ":unit", 2: ":unit", 3: "NULL::uuid",
                            4: "NULL::uuid", 5: "NULL::uuid"},
    "submissions_create": {1: "NULL::uuid", 2: ":unit", 3: "'"'"'progress_report'"'"'",
                           4: "NULL::uuid", 5: "NULL::uuid", 6: "NULL::uuid",
                           7: "NULL::uuid", 8: ":commune", 9: "'"'"'bench'"'"'",
                           10: "NULL::text", 11: "NULL::text", 12: "'"'"'h'"'"'",
                           13: ":user", 14: "'"'"'user'"'"'", 15: "'"'"'bench'"'"'"},
    "idem_store": {1: ":user", 2: "(:k)::text", 3: "'"'"'201'"'"'",
                   4: "'"'"'application/json'"'"'", 5: "'"'"'{}'"'"'",
                   6: "'"'"'\"1\"'"'"'", 7: "NULL::text"},
}.get(sys.argv[1], {})
sql = sys.stdin.read().strip()
print(re.sub(r"\$(\d+)", lambda m: v[int(m.group(1))], sql) + ";")
' "$stmt"
	done
	echo 'COMMIT;'
} >"$RUN_DIR/submit.sql"
SUBMIT_DEFINES=(-D "unit=$OFFICER_UNIT" -D "user=$OFFICER_ID"
	-D "commune=5eed0000-0000-4000-8000-000000000010")

# The scenarios, one measurement at a time. New ones go here, e.g.
#   scenario danvan_plans_list "$DANVAN_URL/api/v1/plans?limit=20" -H "Authorization: Bearer $TOKEN"
scenario nginx_healthz "$NGINX_URL/healthz"
scenario danvan_healthz "$DANVAN_URL/healthz"
scenario danvan_readyz "$DANVAN_URL/readyz"
pgbench_ceiling pgbench_one_row "$RUN_DIR/one_row.sql"
scenario danvan_plan_tasks "$DANVAN_URL/api/v1/plans/$DEMO_PLAN/tasks" \
	-H "Authorization: Bearer $TOKEN"
pgbench_ceiling pgbench_plan_tasks "$RUN_DIR/tasks.sql" "${PGBENCH_DEFINES[@]}"
BENCH_TOKEN=$TOKEN BENCH_UNIT=$OFFICER_UNIT scenario danvan_submit \
	"$DANVAN_URL/api/v1/submissions" -s "$RUN_DIR/submit.lua"
pgbench_ceiling pgbench_submit "$RUN_DIR/submit.sql" "${SUBMIT_DEFINES[@]}"

# Memory after the load.
rss_mib() { # rss_mib FIELD: VmRSS or VmHWM of danvan, in MiB.
	awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$DANVAN_PID/status"
}
DANVAN_GONE=0
VMRSS=$(rss_mib VmRSS 2>/dev/null) || true
VMHWM=$(rss_mib VmHWM 2>/dev/null) || true
if [[ -z "$VMRSS" || -z "$VMHWM" ]]; then
	DANVAN_GONE=1 VMRSS=- VMHWM=-
	log "danvan was gone after the load; see $RAW_DIR/danvan.stderr.log"
fi

# --- report ----------------------------------------------------------------------------------

# ratio A B: A / B with two decimals, or "-" when either is missing.
ratio() {
	awk -v a="${1:--}" -v b="${2:--}" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# x VALUE: VALUE followed by "x", or "-".
x() {
	[[ "$1" == - ]] && printf -- - || printf '%sx' "$1"
}

# verdict VALUE OP LIMIT [SCENARIO]: PASS or MISS ("-" when not measured); MISS as well when
# SCENARIO had errors, since its rate then counts failures.
verdict() {
	if [[ -n "${4:-}" && "${ERR[$4]:-0}" != 0 ]]; then
		echo "MISS (errors)"
		return
	fi
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "-" || v == "") { print "-"; exit }
		ok = (op == ">=") ? (v + 0 >= l + 0) : (op == "<=") ? (v + 0 <= l + 0) : (v + 0 < l + 0)
		print ok ? "PASS" : "MISS" }'
}

HEALTHZ_RATIO=$(ratio "${RPS[danvan_healthz]:-}" "${RPS[nginx_healthz]:-}")
READ_RATIO=$(ratio "${RPS[danvan_readyz]:-}" "${RPS[pgbench_one_row_best]:-}")
READ_P99=${P99[danvan_readyz]:--}
TASKS_RATIO=$(ratio "${RPS[danvan_plan_tasks]:-}" "${RPS[pgbench_plan_tasks_best]:-}")
SUBMIT_RATIO=$(ratio "${RPS[danvan_submit]:-}" "${RPS[pgbench_submit_best]:-}")

report() {
	local i
	printf 'danvan benchmark, %s, on %s (%s cores)\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		"$(uname -n)" "$(nproc)"
	printf '%s s per run, %s run(s) per scenario; danvan DANVAN_THREADS=%s; nginx worker_processes %s, access_log off\n' \
		"$BENCH_SECONDS" "$BENCH_RUNS" "$BENCH_THREADS" "$NGINX_WORKERS"
	printf 'one-row read: %s (as danvan_app)\n\n' "$ONE_ROW_SQL"
	printf '%-26s %12s %10s %8s  %s\n' scenario req/s 'p99 (ms)' errors how
	for i in "${!S_NAME[@]}"; do
		printf '%-26s %12s %10s %8s  %s\n' "${S_NAME[$i]}" "${S_RPS[$i]}" "${S_P99[$i]}" \
			"${S_ERR[$i]}" "${S_NOTE[$i]}"
	done
	printf '\n%-44s %s\n' 'danvan_healthz / nginx_healthz' "$HEALTHZ_RATIO"
	printf '%-44s %s\n' 'danvan_readyz / pgbench_one_row_best' "$READ_RATIO"
	printf '%-44s %s\n' 'danvan_plan_tasks / pgbench_plan_tasks_best' "$TASKS_RATIO"
	printf '%-44s %s\n' 'danvan_submit / pgbench_submit_best' "$SUBMIT_RATIO"
	printf '%-44s VmRSS %s MiB, VmHWM (peak since start) %s MiB\n' 'danvan memory after the load' \
		"$VMRSS" "$VMHWM"
	printf '\n%-52s %12s  %s\n' target measured result
	printf '%-52s %12s  %s\n' "/healthz >= $TARGET_HEALTHZ_RATIO x nginx" "$(x "$HEALTHZ_RATIO")" \
		"$(verdict "$HEALTHZ_RATIO" '>=' "$TARGET_HEALTHZ_RATIO" danvan_healthz)"
	printf '%-52s %12s  %s\n' "one-row read (/readyz) >= $TARGET_READ_RATIO x pgbench best" \
		"$(x "$READ_RATIO")" "$(verdict "$READ_RATIO" '>=' "$TARGET_READ_RATIO" danvan_readyz)"
	printf '%-52s %12s  %s\n' "one-row read p99 <= $TARGET_READ_P99_MS ms at $WRK_CONNECTIONS connections" \
		"$READ_P99 ms" "$(verdict "$READ_P99" '<=' "$TARGET_READ_P99_MS" danvan_readyz)"
	printf '%-52s %12s  %s\n' "RSS after the load (VmRSS) < $TARGET_RSS_MIB MiB" "$VMRSS MiB" \
		"$(verdict "$VMRSS" '<' "$TARGET_RSS_MIB")"
	if ((DANVAN_GONE)); then
		printf '\nwarning: danvan had exited before its memory was read\n'
	fi
	for i in "${!S_NAME[@]}"; do
		if [[ "${S_ERR[$i]}" != 0 ]]; then
			printf '\nwarning: %s had %s non-2xx/3xx answers or socket errors\n' \
				"${S_NAME[$i]}" "${S_ERR[$i]}"
		fi
	done
}

report | tee "$OUT_DIR/last.txt"
log "written to var/bench/last.txt"

((DANVAN_GONE == 0)) || exit 1
if ((BENCH_STRICT)) && grep -qE ' MISS( \(errors\))?$' "$OUT_DIR/last.txt"; then
	exit 1
fi
