#!/usr/bin/env bash
# Brings danvan up on this machine: installs what is missing, builds, starts the
# local PostgreSQL cluster, migrates and seeds it, then serves the API in the
# foreground (Ctrl-C stops both) or, with --detach, in the background.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
	cat <<EOF
usage: deploy/up.sh [--detach]

Serves on \$DANVAN_LISTEN (default 127.0.0.1:8080). With --detach the server
runs in the background (log var/log/danvan.log, pid var/run/danvan.pid) and
deploy/down.sh stops it and the database.
EOF
}

detach=0
case ${1:-} in
'') ;;
--detach) detach=1 ;;
-h | --help)
	usage
	exit 0
	;;
*)
	usage >&2
	exit 2
	;;
esac

PID_FILE=var/run/danvan.pid
LOG_FILE=var/log/danvan.log
export DANVAN_LISTEN=${DANVAN_LISTEN:-127.0.0.1:8080}

# A server started earlier with --detach, if it is still alive.
detached_pid() {
	local pid
	[[ -s "$PID_FILE" ]] || return 1
	pid=$(<"$PID_FILE")
	[[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == danvan ]] &&
		printf '%s\n' "$pid"
}

if pid=$(detached_pid); then
	if ((detach)); then
		echo "danvan: already running in the background (pid $pid); deploy/down.sh stops it"
		exit 0
	fi
	echo "danvan: already running in the background (pid $pid); run deploy/down.sh first" >&2
	exit 1
fi

# shellcheck source=SCRIPTDIR/deps.sh
source deploy/deps.sh
deps_install

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo --log-level=WARNING
cmake --build build -j2

deploy/pg.sh start
eval "$(deploy/pg.sh env)"

build/danvan migrate
build/danvan seed var/demo-credentials.json

# The access-token signing key of this local server, made once.
if [[ ! -s var/jwt.secret ]]; then
	(umask 077 && head -c 48 /dev/urandom | base64 -w0 >var/jwt.secret)
fi
export DANVAN_JWT_SECRET_FILE=$PWD/var/jwt.secret

if curl -s -o /dev/null --max-time 2 "http://$DANVAN_LISTEN/healthz"; then
	echo "danvan: something already answers on $DANVAN_LISTEN; stop it or set DANVAN_LISTEN" >&2
	exit 1
fi

echo "danvan: serving http://$DANVAN_LISTEN/ (API /api/v1, docs /docs, health /healthz)"
if [[ -f var/demo-credentials.json ]]; then
	/usr/bin/python3 -c '
import json, sys
for a in json.load(open(sys.argv[1])):
    if a["role"] == "admin":
        print("danvan: demo admin: username %s  password %s  (all demo logins: %s)"
              % (a["username"], a["password"], sys.argv[1]))
' var/demo-credentials.json
fi

# The server needs only the application role's URL.
serve=(env -u DANVAN_OWNER_DATABASE_URL -u DANVAN_SUPER_DATABASE_URL build/danvan serve)

if ((detach)); then
	mkdir -p var/log var/run
	setsid nohup "${serve[@]}" >>"$LOG_FILE" 2>&1 </dev/null &
	pid=$!
	printf '%s\n' "$pid" >"$PID_FILE"
	for ((i = 0; i < 40; i++)); do
		if curl -sf -o /dev/null --max-time 1 "http://$DANVAN_LISTEN/healthz" &&
			kill -0 "$pid" 2>/dev/null; then
			echo "danvan: running in the background (pid $pid, log $LOG_FILE); deploy/down.sh stops it"
			exit 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	echo "danvan: the server did not answer /healthz within 20 s; last lines of $LOG_FILE:" >&2
	tail -n 20 "$LOG_FILE" >&2 || true
	kill -TERM "$pid" 2>/dev/null || true
	rm -f "$PID_FILE"
	echo "danvan: the database is still running; deploy/down.sh stops it" >&2
	exit 1
fi

pid=''
# shellcheck disable=SC2317 # called from the EXIT trap
stop_all() {
	trap - EXIT INT TERM
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	echo "danvan: stopping the database" >&2
	deploy/pg.sh stop || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${serve[@]}" &
pid=$!
# Returns when the server exits, or early when a signal runs a trap above.
status=0
wait "$pid" || status=$?
exit "$status"
