#!/usr/bin/env bash
# Loopback benchmark of danvan against its ceilings: nginx answering /healthz by itself, and
# pgbench running the very statements each request makes. For every scenario it prints req/s,
# p99, the ceiling and the ratio, and the CPU microseconds per request that danvan and
# PostgreSQL spent (from /proc: utime+stime), with the memory idle and holding 1,000
# keep-alive connections; PASS/MISS against the targets, written to var/bench/last.txt.
# A measurement, not a test. Environment: BENCH_SECONDS (10), BENCH_THREADS (nproc:
# DANVAN_THREADS), BENCH_EVENT_THREADS (1: DANVAN_EVENT_THREADS, and nginx's workers), BENCH_RUNS (1: median of), BENCH_ONLY (regex), BENCH_STRICT, BENCH_DANVAN
# (the binary: build/danvan).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$REPO"

BENCH_SECONDS=${BENCH_SECONDS:-10}
# danvan's own default: one blocking thread per CPU.
BENCH_THREADS=${BENCH_THREADS:-$(nproc)}
# danvan's own default: one thread reads requests and sends answers.
BENCH_EVENT_THREADS=${BENCH_EVENT_THREADS:-1}
BENCH_ONLY=${BENCH_ONLY:-}
BENCH_RUNS=${BENCH_RUNS:-1}       # runs per measurement; the median is reported
BENCH_STRICT=${BENCH_STRICT:-0}   # 1: exit 1 when a target is missed
WRK_THREADS=2
WRK_CONNECTIONS=32
NGINX_WORKERS=$BENCH_EVENT_THREADS # as many workers as danvan has event threads
PGBENCH_CLIENTS=(4 8 16)

OUT_DIR=$REPO/var/bench
RAW_DIR=$OUT_DIR/raw   # this run's wrk and pgbench outputs and danvan's stderr
PG_DIR=$REPO/var/bench-pg
RUN_DIR=$OUT_DIR/run   # this run's server copy, key, nginx and SQL files; removed on exit
DANVAN=${BENCH_DANVAN:-$REPO/build/danvan} # another build, to compare before and after

# The one-row read that /readyz makes, run by pgbench as the same role.
ONE_ROW_SQL='SELECT max(version) FROM schema_migrations;'

# Targets.
TARGET_HEALTHZ_RATIO=1.0
TARGET_READ_RATIO=0.6
TARGET_READ_P99_MS=10
TARGET_RSS_MIB=32
TARGET_IDLE_RSS_MIB=16
TARGET_SUBMIT_RATIO=0.9
TARGET_HEALTHZ_CPU_US=12
TARGET_READ_CPU_US=40
IDLE_CONNECTIONS=1000

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
[[ "$BENCH_EVENT_THREADS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_EVENT_THREADS must be a positive integer"
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
	DANVAN_EVENT_THREADS=$BENCH_EVENT_THREADS \
	DANVAN_CONNECTION_LIMIT=$((IDLE_CONNECTIONS + 64)) \
	"$RUN_DIR/danvan" serve >/dev/null 2>"$RAW_DIR/danvan.stderr.log" &
DANVAN_PID=$!
wait_http "$DANVAN_URL/healthz" 15 || die "danvan did not answer on $DANVAN_URL; see $RAW_DIR/danvan.stderr.log"
wait_http "$DANVAN_URL/readyz" 15 || die "danvan is not ready (/readyz); see $RAW_DIR/danvan.stderr.log"
rss_mib() { # rss_mib FIELD: VmRSS or VmHWM of danvan, in MiB.
	awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$DANVAN_PID/status"
}
IDLE_RSS=$(rss_mib VmRSS)

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

declare -a S_NAME=() S_RPS=() S_P99=() S_ERR=() S_NOTE=() S_DV=() S_PG=()
declare -A RPS=() P99=() ERR=() CPU_DV=()

# record NAME RPS P99_MS ERRORS NOTE [DANVAN_US PG_US]: the last two are CPU µs per request.
record() {
	S_NAME+=("$1") S_RPS+=("$2") S_P99+=("$3") S_ERR+=("$4") S_NOTE+=("$5")
	S_DV+=("${6:--}") S_PG+=("${7:--}")
	RPS[$1]=$2 P99[$1]=$3 ERR[$1]=$4 CPU_DV[$1]=${6:--}
}

# CPU time from /proc, in clock ticks: utime+stime of a process (its threads included), and
# for PostgreSQL the postmaster with every child it has (backends, background workers) plus
# the children it has already reaped (cutime+cstime), so backends that ended count too.
CLK_TCK=$(getconf CLK_TCK)
PG_POSTMASTER=$(sed -n 1p "$PG_DIR/data/postmaster.pid")
proc_ticks() { # proc_ticks PID [WITH_REAPED]
	local f
	f=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	awk -v r="${2:-0}" '{ print $12 + $13 + (r ? $14 + $15 : 0) }' <<<"$f"
}
danvan_ticks() {
	proc_ticks "$DANVAN_PID"
}
pg_ticks() {
	local pid total
	total=$(proc_ticks "$PG_POSTMASTER" 1)
	for pid in $(ps -o pid= --ppid "$PG_POSTMASTER"); do
		total=$((total + $(proc_ticks "$pid")))
	done
	echo "$total"
}
# per_req TICKS REQUESTS: microseconds of CPU per request, or "-".
per_req() {
	awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN {
		if (n + 0 <= 0) print "-"; else printf "%.1f", t * 1000000 / hz / n }'
}

wanted() {
	[[ -z "$BENCH_ONLY" || "$1" =~ $BENCH_ONLY ]]
}

# Reads wrk's output: prints "REQ_PER_SEC P99_MS ERRORS REQUESTS" (errors: non-2xx/3xx + socket
# errors).
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
	$2 == "requests" && $3 == "in" { n = $1 }
	$1 == "99%"           { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { err += $NF }
	/Socket errors:/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { v = $i; sub(/,/, "", v); err += v }
	}
	END {
		printf "%s %s %d %d\n", (rps == "" ? "-" : sprintf("%.1f", rps)),
		    (p99 == "" || p99 < 0 ? "-" : sprintf("%.3f", p99)), err, n
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
# run with the median rate, with the CPU that danvan and PostgreSQL spent per request in it;
# errors are summed over the runs.
scenario() {
	local name=$1 url=$2
	shift 2
	wanted "$name" || return 0
	local i out rps p99 err n dv0 pg0 dv pg total=0 runs=()
	bounded 30 /dev/null wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d1s "$@" "$url" || true
	for ((i = 1; i <= BENCH_RUNS; i++)); do
		log "$name: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${BENCH_SECONDS}s $url (run $i)"
		out=$RAW_DIR/$name.$i.wrk.txt
		dv0=$(danvan_ticks) pg0=$(pg_ticks)
		bounded $((BENCH_SECONDS + 30)) "$out" wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" \
			-d"${BENCH_SECONDS}s" --latency "$@" "$url" || {
			cat "$out" >&2
			die "wrk failed on $name"
		}
		dv=$(($(danvan_ticks) - dv0)) pg=$(($(pg_ticks) - pg0))
		read -r rps p99 err n < <(parse_wrk <"$out")
		runs+=("$rps $p99 $(per_req "$dv" "$n") $(per_req "$pg" "$n")")
		total=$((total + err))
	done
	read -r rps p99 dv pg < <(printf '%s\n' "${runs[@]}" | median)
	record "$name" "$rps" "$p99" "$total" "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS$HOW_RUNS" "$dv" "$pg"
}

# pgbench_ceiling NAME SQLFILE [PGBENCH ARGS]: pgbench's tps (median of BENCH_RUNS) at each of
# PGBENCH_CLIENTS, as danvan_app, and the best of them.
pgbench_ceiling() {
	local name=$1 file=$2 c i out tps n pg0 pg runs best=0 best_c=0 best_pg=-
	shift 2 # the rest: extra pgbench arguments (-D name=value)
	wanted "$name" || return 0
	for c in "${PGBENCH_CLIENTS[@]}"; do
		runs=()
		for ((i = 1; i <= BENCH_RUNS; i++)); do
			log "$name: pgbench -c$c -j2 -T$BENCH_SECONDS (run $i)"
			out=$RAW_DIR/${name}_c$c.$i.pgbench.txt
			pg0=$(pg_ticks)
			bounded $((BENCH_SECONDS + 60)) "$out" pgbench -n -M prepared -f "$file" \
				-T "$BENCH_SECONDS" -j 2 -c "$c" "$@" \
				-h "$DANVAN_PG_HOST" -p "$DANVAN_PG_PORT" -U danvan_app danvan || {
				cat "$out" >&2
				die "pgbench failed"
			}
			# pgbench's backends end with it: let the postmaster reap them
			# (their CPU moves to its cutime+cstime) before reading.
			sleep 0.5
			pg=$(($(pg_ticks) - pg0))
			tps=$(awk '$1 == "tps" && $2 == "=" { printf "%.1f", $3; exit }' "$out")
			n=$(awk -F': ' '/actually processed/ { print $2 + 0; exit }' "$out")
			[[ -n "$tps" ]] || die "could not read pgbench's tps in $out"
			runs+=("$tps $(per_req "$pg" "${n:-0}")")
		done
		read -r tps pg < <(printf '%s\n' "${runs[@]}" | median)
		record "${name}_c$c" "$tps" "-" 0 "pgbench -c$c -j2 -M prepared$HOW_RUNS" - "$pg"
		if awk -v a="$tps" -v b="$best" 'BEGIN { exit !(a > b) }'; then
			best=$tps best_c=$c best_pg=$pg
		fi
	done
	record "${name}_best" "$best" "-" 0 "best: -c$best_c" - "$best_pg"
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
# (plan_drafts binds 'unit' for an officer)
"$RUN_DIR/danvan" sql tasks_list | sed -e 's/\$1/:unit/g' -e 's/\$2/:plan/g' \
	-e 's/\$3::text/NULL::text/g; s/\$3/NULL::text/g' -e 's/\$4/51/g' \
	-e "s/\\\$5/'unit'/g" -e 's/\$6::text/NULL::text/g; s/\$6/NULL::text/g' >"$RUN_DIR/tasks.sql"
PGBENCH_DEFINES=(-D "unit=$OFFICER_UNIT" -D "plan=$DEMO_PLAN")

# GET /api/v1/tasks/{id} as the same officer, the one-row read a village phone makes (token
# verified, scope checked in SQL, JSON out), against pgbench running danvan sql tasks_get.
TASK_ID=$(psql -X -qAt "$DANVAN_OWNER_DATABASE_URL" \
	-c "SELECT id FROM tasks WHERE plan_id = '$DEMO_PLAN' ORDER BY number LIMIT 1")
[[ -n "$TASK_ID" ]] || die "the demo plan has no task"
# shellcheck disable=SC2016 # $1, $2, $3 are the statement's placeholders, not shell
"$RUN_DIR/danvan" sql tasks_get | sed -e 's/\$1/:unit/g' -e 's/\$2/:task/g' \
	-e "s/\\\$3/'unit'/g" -e 's/$/;/' >"$RUN_DIR/task_get.sql"
TASK_DEFINES=(-D "unit=$OFFICER_UNIT" -D "task=$TASK_ID")

# POST /api/v1/submissions as the same officer, each with its own Idempotency-Key, against
# pgbench running the same statements in one transaction: the idempotency claim, the
# INSERT with its context read and audit event, the stored answer.
OFFICER_ID=$(psql -X -qAt "$DANVAN_OWNER_DATABASE_URL" -c "SELECT id FROM users WHERE username = 'thon1'")
# Every wrk run (the warm-up too) has keys of its own, from /dev/urandom: math.random is not
# seeded, so keys made from it came again in the next run, and were answered as replays.
cat >"$RUN_DIR/submit.lua" <<'LUA'
local n = 0
local auth = "Bearer " .. os.getenv("BENCH_TOKEN")
local body = '{"unit_id":"' .. os.getenv("BENCH_UNIT") ..
    '","kind":"progress_report","title":"Bao cao tien do (bench)"}'
local f = assert(io.open("/dev/urandom", "rb"))
local run = f:read(8):gsub(".", function(c) return string.format("%02x", c:byte()) end)
f:close()
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", run .. "-" .. threads)
end
function request()
	n = n + 1
	return wrk.format("POST", nil, {["Content-Type"] = "application/json",
	    ["Authorization"] = auth,
	    ["Idempotency-Key"] = string.format("bench-%s-%d", tid, n)}, body)
end
LUA
{
	echo '\set k random(1, 2000000000)'
	echo 'BEGIN;'
	for stmt in idem_claim submissions_create idem_store; do
		# shellcheck disable=SC2016 # the $ is Python's and SQL's, not the shell's
		"$RUN_DIR/danvan" sql "$stmt" | /usr/bin/python3 -c '
import re, sys
# The values the server binds, as pgbench variables and literals (the nil UUID
# for a reference left out).
nil = "'"'"'00000000-0000-0000-0000-000000000000'"'"'::uuid"
v = {
    "idem_claim": {1: ":user", 2: "(:k)::text", 3: "'"'"'h'"'"'"},
    "submissions_create": {1: ":unit", 2: ":unit", 3: nil, 4: nil, 5: nil,
                           6: "NULL::uuid", 7: "'"'"'progress_report'"'"'",
                           8: "'"'"'bench'"'"'", 9: "NULL::text", 10: "NULL::text",
                           11: "'"'"'h'"'"'", 12: ":user", 13: "'"'"'user'"'"'",
                           14: "'"'"'bench'"'"'"},
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
SUBMIT_DEFINES=(-D "unit=$OFFICER_UNIT" -D "user=$OFFICER_ID")

# The scenarios, one measurement at a time. New ones go here, e.g.
#   scenario danvan_plans_list "$DANVAN_URL/api/v1/plans?limit=20" -H "Authorization: Bearer $TOKEN"
scenario nginx_healthz "$NGINX_URL/healthz"
scenario danvan_healthz "$DANVAN_URL/healthz"
scenario danvan_readyz "$DANVAN_URL/readyz"
pgbench_ceiling pgbench_one_row "$RUN_DIR/one_row.sql"
scenario danvan_task_get "$DANVAN_URL/api/v1/tasks/$TASK_ID" -H "Authorization: Bearer $TOKEN"
pgbench_ceiling pgbench_task_get "$RUN_DIR/task_get.sql" "${TASK_DEFINES[@]}"
scenario danvan_plan_tasks "$DANVAN_URL/api/v1/plans/$DEMO_PLAN/tasks" \
	-H "Authorization: Bearer $TOKEN"
pgbench_ceiling pgbench_plan_tasks "$RUN_DIR/tasks.sql" "${PGBENCH_DEFINES[@]}"
BENCH_TOKEN=$TOKEN BENCH_UNIT=$OFFICER_UNIT scenario danvan_submit \
	"$DANVAN_URL/api/v1/submissions" -s "$RUN_DIR/submit.lua"
pgbench_ceiling pgbench_submit "$RUN_DIR/submit.sql" "${SUBMIT_DEFINES[@]}"

# Memory after the load, then holding IDLE_CONNECTIONS keep-alive connections that have each
# had one answer and stay open, idle.
DANVAN_GONE=0
VMRSS=$(rss_mib VmRSS 2>/dev/null) || true
VMHWM=$(rss_mib VmHWM 2>/dev/null) || true
if [[ -z "$VMRSS" || -z "$VMHWM" ]]; then
	DANVAN_GONE=1 VMRSS=- VMHWM=-
	log "danvan was gone after the load; see $RAW_DIR/danvan.stderr.log"
fi
CONN_RSS=-
if ((!DANVAN_GONE)) && wanted danvan_connections; then
	log "holding $IDLE_CONNECTIONS idle keep-alive connections"
	timeout 120 /usr/bin/python3 -c '
import os, socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
held = []
for i in range(n):
	s = socket.create_connection(("127.0.0.1", port), timeout=10)
	s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
	got = b""
	while b"\r\n\r\n" not in got:
		chunk = s.recv(4096)
		if not chunk:
			sys.exit("connection %d closed" % i)
		got += chunk
	head, _, body = got.partition(b"\r\n\r\n")
	length = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
	          if l.lower().startswith(b"content-length:")][0]
	while len(body) < length:
		body += s.recv(4096)
	held.append(s)
with open(ready + ".tmp", "w") as f:
	f.write("%d\n" % len(held))
os.rename(ready + ".tmp", ready)
time.sleep(60)
' "$DANVAN_PORT" "$IDLE_CONNECTIONS" "$RUN_DIR/held" 2>"$RAW_DIR/connections.log" &
	CHILD_PID=$!
	for ((i = 0; i < 600; i++)); do
		[[ -f "$RUN_DIR/held" ]] || ! kill -0 "$CHILD_PID" 2>/dev/null || { sleep 0.1; continue; }
		break
	done
	if [[ "$(cat "$RUN_DIR/held" 2>/dev/null)" == "$IDLE_CONNECTIONS" ]]; then
		sleep 1
		CONN_RSS=$(rss_mib VmRSS 2>/dev/null) || CONN_RSS=-
	else
		log "could not hold $IDLE_CONNECTIONS connections; see $RAW_DIR/connections.log"
	fi
	stop_pid "$CHILD_PID"
	CHILD_PID=''
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

# Each danvan scenario and its ceiling: nginx for /healthz, pgbench on the same SQL otherwise.
declare -A CEILING=([danvan_healthz]=nginx_healthz [danvan_readyz]=pgbench_one_row_best
	[danvan_task_get]=pgbench_task_get_best [danvan_plan_tasks]=pgbench_plan_tasks_best
	[danvan_submit]=pgbench_submit_best)
declare -A RATIO=()
for name in "${!CEILING[@]}"; do
	RATIO[$name]=$(ratio "${RPS[$name]:-}" "${RPS[${CEILING[$name]}]:-}")
done

# target TEXT MEASURED VERDICT
target() {
	printf '%-60s %14s  %s\n' "$1" "$2" "$3"
}

report() {
	local i n c
	printf 'danvan benchmark, %s, on %s (%s cores)\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		"$(uname -n)" "$(nproc)"
	printf '%s s per run, %s run(s) per scenario; danvan DANVAN_EVENT_THREADS=%s DANVAN_THREADS=%s; nginx worker_processes %s, access_log off\n' \
		"$BENCH_SECONDS" "$BENCH_RUNS" "$BENCH_EVENT_THREADS" "$BENCH_THREADS" "$NGINX_WORKERS"
	printf 'one-row read: %s (as danvan_app)\n' "$ONE_ROW_SQL"
	printf 'CPU: µs of utime+stime per request (pgbench: per transaction), from /proc; pg = every PostgreSQL process\n\n'
	printf '%-24s %10s %9s %6s %-22s %6s %8s %8s  %s\n' scenario req/s 'p99 ms' errors ceiling ratio \
		'danvan' 'pg' how
	for i in "${!S_NAME[@]}"; do
		n=${S_NAME[$i]} c=${CEILING[${S_NAME[$i]}]:-}
		printf '%-24s %10s %9s %6s %-22s %6s %8s %8s  %s\n' "$n" "${S_RPS[$i]}" "${S_P99[$i]}" \
			"${S_ERR[$i]}" "${c:--}" "${RATIO[$n]:--}" "${S_DV[$i]}" "${S_PG[$i]}" "${S_NOTE[$i]}"
	done
	printf '\ndanvan memory (VmRSS): idle after start %s MiB; after the load %s MiB (peak %s MiB); holding %s idle keep-alive connections %s MiB\n' \
		"$IDLE_RSS" "$VMRSS" "$VMHWM" "$IDLE_CONNECTIONS" "$CONN_RSS"
	printf '\n%-60s %14s  %s\n' target measured result
	target "/healthz >= $TARGET_HEALTHZ_RATIO x nginx ($NGINX_WORKERS workers)" \
		"$(x "${RATIO[danvan_healthz]:--}")" \
		"$(verdict "${RATIO[danvan_healthz]:--}" '>=' "$TARGET_HEALTHZ_RATIO" danvan_healthz)"
	target "/healthz danvan CPU <= $TARGET_HEALTHZ_CPU_US µs/request" "${CPU_DV[danvan_healthz]:--} µs" \
		"$(verdict "${CPU_DV[danvan_healthz]:--}" '<=' "$TARGET_HEALTHZ_CPU_US" danvan_healthz)"
	target "authenticated read (task get) >= $TARGET_READ_RATIO x pgbench best" \
		"$(x "${RATIO[danvan_task_get]:--}")" \
		"$(verdict "${RATIO[danvan_task_get]:--}" '>=' "$TARGET_READ_RATIO" danvan_task_get)"
	target "authenticated read p99 <= $TARGET_READ_P99_MS ms at $WRK_CONNECTIONS connections" \
		"${P99[danvan_task_get]:--} ms" \
		"$(verdict "${P99[danvan_task_get]:--}" '<=' "$TARGET_READ_P99_MS" danvan_task_get)"
	target "authenticated read danvan CPU <= $TARGET_READ_CPU_US µs/request" \
		"${CPU_DV[danvan_task_get]:--} µs" \
		"$(verdict "${CPU_DV[danvan_task_get]:--}" '<=' "$TARGET_READ_CPU_US" danvan_task_get)"
	target "one-row read (/readyz) >= $TARGET_READ_RATIO x pgbench best" \
		"$(x "${RATIO[danvan_readyz]:--}")" \
		"$(verdict "${RATIO[danvan_readyz]:--}" '>=' "$TARGET_READ_RATIO" danvan_readyz)"
	target "submission POST >= $TARGET_SUBMIT_RATIO x pgbench best" \
		"$(x "${RATIO[danvan_submit]:--}")" \
		"$(verdict "${RATIO[danvan_submit]:--}" '>=' "$TARGET_SUBMIT_RATIO" danvan_submit)"
	target "RSS idle <= $TARGET_IDLE_RSS_MIB MiB" "$IDLE_RSS MiB" \
		"$(verdict "$IDLE_RSS" '<=' "$TARGET_IDLE_RSS_MIB")"
	target "RSS with $IDLE_CONNECTIONS idle connections <= $TARGET_RSS_MIB MiB" "$CONN_RSS MiB" \
		"$(verdict "$CONN_RSS" '<=' "$TARGET_RSS_MIB")"
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
