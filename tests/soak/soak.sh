#!/usr/bin/env bash
# Soak: the real server against a throwaway cluster of its own, under a mix of reads, writes,
# uploads, sign-ins and bad requests (tests/soak/driver.py) at half the peak the driver
# measures first, on loopback. Passes when no request gets an unexpected status, RSS stays
# flat within 5 % after the warm-up, the server's file descriptors and PostgreSQL connections
# do not grow, and the server exits cleanly (under ASan: LeakSanitizer finds no leak).
# A measurement, not a CI test. Environment: SOAK_SECONDS (600), SOAK_PEAK_SECONDS (20),
# SOAK_FRACTION (0.5), SOAK_THREADS (8), SOAK_ASAN (0; 1: the ASan+UBSan build in build-asan/,
# RSS reported but not judged), SOAK_BIN (the binary; default by SOAK_ASAN).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$REPO"

SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_ASAN=${SOAK_ASAN:-0}
if [[ $SOAK_ASAN == 1 ]]; then
	SOAK_BIN=${SOAK_BIN:-$REPO/build-asan/danvan}
	export SOAK_CHECK_RSS=0
else
	SOAK_BIN=${SOAK_BIN:-$REPO/build/danvan}
fi
export SOAK_SECONDS
RUN_DIR=$REPO/var/soak.$$
PG_DIR=$RUN_DIR/pg
DANVAN_PID=''
PG_STARTED=0

log() {
	printf 'soak: %s\n' "$*" >&2
}

die() {
	log "$*"
	exit 1
}

[[ "$SOAK_SECONDS" =~ ^[1-9][0-9]*$ ]] || die "SOAK_SECONDS must be a positive integer"
[[ -x "$SOAK_BIN" ]] || die "$SOAK_BIN is missing: build it first (see README)"

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n "$DANVAN_PID" ]]; then
		kill -KILL "$DANVAN_PID" 2>/dev/null || true
		wait "$DANVAN_PID" 2>/dev/null || true
	fi
	if ((PG_STARTED)); then
		deploy/pg.sh destroy --dir "$PG_DIR" >/dev/null 2>&1 || log "could not destroy $PG_DIR"
	fi
	rm -rf "$RUN_DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mkdir -p "$RUN_DIR"
PG_STARTED=1
deploy/pg.sh start --throwaway --dir "$PG_DIR" --port "$(free_port)" >"$RUN_DIR/pg.log" 2>&1 ||
	{ cat "$RUN_DIR/pg.log" >&2; die "could not start the cluster"; }
eval "$(deploy/pg.sh env --dir "$PG_DIR")"
export DANVAN_DATABASE_URL DANVAN_OWNER_DATABASE_URL
# The server runs from a copy, so a rebuild during the run does not change what is measured.
cp "$SOAK_BIN" "$RUN_DIR/danvan"
"$RUN_DIR/danvan" migrate >"$RUN_DIR/migrate.log" 2>&1 ||
	{ cat "$RUN_DIR/migrate.log" >&2; die "danvan migrate failed"; }
"$RUN_DIR/danvan" seed "$RUN_DIR/credentials.json" >"$RUN_DIR/seed.log" 2>&1 ||
	{ cat "$RUN_DIR/seed.log" >&2; die "danvan seed failed"; }
(umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$RUN_DIR/jwt.secret")

PORT=$(free_port)
# Sign-ins are part of the load, not an attack: the per-username limit is raised. Tokens
# outlive the run.
env DANVAN_LISTEN="127.0.0.1:$PORT" DANVAN_JWT_SECRET_FILE="$RUN_DIR/jwt.secret" \
	DANVAN_LOGIN_LIMIT=1000 DANVAN_ACCESS_TTL=86400 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$RUN_DIR/danvan" serve >/dev/null 2>"$RUN_DIR/danvan.stderr.log" &
DANVAN_PID=$!
for ((i = 0; i < 150; i++)); do
	[[ $(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true) == 200 ]] && break
	kill -0 "$DANVAN_PID" 2>/dev/null || break
	sleep 0.1
done
[[ $(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true) == 200 ]] ||
	{ cat "$RUN_DIR/danvan.stderr.log" >&2; die "danvan did not become ready"; }

printf 'danvan soak, %s, on %s (%s cores), binary %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	"$(uname -n)" "$(nproc)" "${SOAK_BIN#"$REPO"/}"
rc=0
/usr/bin/python3 tests/soak/driver.py "http://127.0.0.1:$PORT" "$DANVAN_PID" \
	"$RUN_DIR/credentials.json" "$DANVAN_SUPER_DATABASE_URL" || rc=1

# A clean exit within the shutdown grace; under ASan LeakSanitizer reports here.
kill -TERM "$DANVAN_PID"
src=0
timeout 60 tail --pid="$DANVAN_PID" -f /dev/null || true
wait "$DANVAN_PID" || src=$?
DANVAN_PID=''
if grep -q 'LeakSanitizer' "$RUN_DIR/danvan.stderr.log"; then
	grep -A30 'LeakSanitizer' "$RUN_DIR/danvan.stderr.log" | head -60
	echo "FAIL: LeakSanitizer reported leaks"
	rc=1
elif grep -qE 'AddressSanitizer|runtime error:' "$RUN_DIR/danvan.stderr.log"; then
	grep -B2 -A30 -E 'AddressSanitizer|runtime error:' "$RUN_DIR/danvan.stderr.log" | head -60
	echo "FAIL: sanitizer report"
	rc=1
fi
if ((src != 0)); then
	echo "FAIL: danvan exited $src after SIGTERM"
	rc=1
else
	echo "danvan exited 0 after SIGTERM"
	[[ $SOAK_ASAN != 1 ]] || echo "LeakSanitizer: no leak reported"
fi
exit "$rc"
