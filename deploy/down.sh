#!/usr/bin/env bash
# Stops what deploy/up.sh --detach started: the danvan server (SIGTERM, up to
# 15 s to finish in-flight requests) and then the local PostgreSQL cluster.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PID_FILE=var/run/danvan.pid

if [[ -s "$PID_FILE" ]]; then
	pid=$(<"$PID_FILE")
	if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == danvan ]]; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 150; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "danvan: pid $pid did not stop within 15 s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		else
			echo "danvan: stopped (pid $pid)"
		fi
	fi
	rm -f "$PID_FILE"
fi

deploy/pg.sh stop
echo "danvan: database stopped"
