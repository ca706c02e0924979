#!/usr/bin/env bash
# Runs danvan's own PostgreSQL 15 cluster (unix socket only, private port), apart
# from any other cluster on the machine: start (creating it, its roles, database and
# extensions), stop, destroy, and env (the export lines that point danvan at it).
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DEFAULT_PORT=54320

usage() {
	cat <<EOF
usage: deploy/pg.sh start   [--dir DIR] [--port PORT] [--throwaway]
       deploy/pg.sh stop    [--dir DIR]
       deploy/pg.sh destroy [--dir DIR]
       deploy/pg.sh env     [--dir DIR] [--port PORT]

DIR defaults to $REPO/var/pg; PORT to the port the cluster was created with,
else \$DANVAN_PG_PORT, else $DEFAULT_PORT. --throwaway turns fsync off (tests only).
EOF
}

die() {
	echo "pg: $*" >&2
	exit 1
}

note() {
	echo "pg: $*" >&2
}

# Runs a command as the OS user postgres, from a directory it can enter.
as_pg() {
	if [[ $(id -u) -eq 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	elif [[ $(id -un) == postgres ]]; then
		(cd / && "$@")
	else
		die "must run as root (or as the postgres user)"
	fi
}

# Quotes a string for the shell.
shq() {
	printf "'%s'" "${1//\'/\'\\\'\'}"
}

# Percent-encodes everything but unreserved characters and '/'.
urlenc() {
	local LC_ALL=C s=$1 out='' c hex i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9/._~-]) out+=$c ;;
		*)
			printf -v hex '%%%02X' "'$c"
			out+=$hex
			;;
		esac
	done
	printf '%s' "$out"
}

cmd=${1:-}
[[ -n "$cmd" ]] || {
	usage >&2
	exit 2
}
shift
DIR=''
PORT=''
THROWAWAY=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--dir) DIR=${2:?--dir needs a value}; shift 2 ;;
	--dir=*) DIR=${1#--dir=}; shift ;;
	--port) PORT=${2:?--port needs a value}; shift 2 ;;
	--port=*) PORT=${1#--port=}; shift ;;
	--throwaway) THROWAWAY=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

DIR=${DIR:-$REPO/var/pg}
[[ "$DIR" == /* ]] || DIR=$PWD/$DIR
while [[ "$DIR" == */ && "$DIR" != / ]]; do DIR=${DIR%/}; done

PORT_FILE=$DIR/port
if [[ -z "$PORT" ]]; then
	if [[ -s "$PORT_FILE" ]]; then
		PORT=$(<"$PORT_FILE")
	else
		PORT=${DANVAN_PG_PORT:-$DEFAULT_PORT}
	fi
	PORT_GIVEN=0
else
	PORT_GIVEN=1
fi
if ! [[ "$PORT" =~ ^[1-9][0-9]{0,4}$ ]] || ((PORT > 65535)); then
	die "bad port: $PORT"
fi

# Commands run as postgres get real paths: DIR may be a link that only root can follow.
resolve_paths() {
	if [[ -e "$DIR" ]]; then
		RDIR=$(readlink -f "$DIR")
	else
		RDIR=$DIR
	fi
	DATA=$RDIR/data
	LOGFILE=$RDIR/log/postgresql.log
}
resolve_paths

is_cluster() {
	[[ -f "$DATA/PG_VERSION" ]]
}

is_running() {
	is_cluster && as_pg "$PG_BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

# The socket directory, with symbolic links resolved.
socket_dir() {
	printf '%s/run' "$RDIR"
}

# The port a running postmaster listens on (line 4 of postmaster.pid).
running_port() {
	sed -n 4p "$DATA/postmaster.pid" 2>/dev/null
}

have_cutf8() {
	locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'
}

# Makes DIR a directory owned by postgres, or a link to one under /var/tmp when
# postgres cannot reach DIR's parent or the socket path would be too long.
make_dir() {
	local parent real sock
	parent=$(dirname "$DIR")
	mkdir -p "$parent"
	if [[ -L "$DIR" && ! -e "$DIR" ]]; then
		rm -f "$DIR" # link to a directory that is gone
	fi
	if [[ -d "$DIR" ]]; then
		real=$(readlink -f "$DIR")
		if as_pg test -x "$real" -a -w "$real" 2>/dev/null; then
			return 0
		fi
	fi
	real=$(readlink -f "$parent")/$(basename "$DIR")
	sock=$real/run/.s.PGSQL.$PORT
	local why="the postgres user cannot reach $parent"
	if ((${#sock} > 107)); then
		why="the socket path under $DIR would be too long"
	elif as_pg test -x "$parent" 2>/dev/null; then
		mkdir -p "$DIR"
		chown postgres:postgres "$DIR"
		chmod 0700 "$DIR"
		return 0
	fi
	if [[ -e "$DIR" || -L "$DIR" ]]; then
		rmdir "$DIR" 2>/dev/null ||
			die "$DIR exists but the postgres user cannot use it; remove it or choose another --dir"
	fi
	real=$(mktemp -d /var/tmp/danvan-pg.XXXXXX)
	chown postgres:postgres "$real"
	chmod 0700 "$real"
	ln -s "$real" "$DIR"
	note "$why: the cluster lives in $real (linked from $DIR)"
}

create_cluster() {
	make_dir
	resolve_paths
	as_pg mkdir -p -m 0700 "$RDIR/run" "$RDIR/log"
	local locale=(--locale=C --encoding=UTF8)
	if have_cutf8; then
		locale=(--locale=C.UTF-8 --encoding=UTF8)
	fi
	local nosync=()
	if ((THROWAWAY)); then
		nosync=(--no-sync)
	fi
	local out
	if ! out=$(as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres \
		--auth-local=trust --auth-host=reject "${locale[@]}" "${nosync[@]}" 2>&1); then
		printf '%s\n' "$out" >&2
		rm -rf "$DATA"
		die "initdb failed"
	fi
	printf "\ninclude = 'danvan.conf'\n" >>"$DATA/postgresql.conf"
	printf '%s\n' "$PORT" >"$PORT_FILE"
	if ((THROWAWAY)); then
		: >"$DIR/throwaway"
	fi
	note "created cluster in $DIR (port $PORT)"
}

# Writes the settings danvan relies on; rewritten on every start.
write_conf() {
	local sock durable=on
	sock=$(socket_dir)
	if [[ -e "$DIR/throwaway" ]]; then
		durable=off
	fi
	cat >"$DATA/danvan.conf" <<EOF
# Written by deploy/pg.sh on every start.
listen_addresses = ''
port = $PORT
unix_socket_directories = '${sock//\'/\'\'}'
max_connections = 100
shared_buffers = 128MB
work_mem = 8MB
maintenance_work_mem = 64MB
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
fsync = $durable
synchronous_commit = $durable
full_page_writes = $durable
EOF
	chown postgres:postgres "$DATA/danvan.conf"
}

# Creates the roles, the database and the extensions if they are missing.
bootstrap() {
	local sock
	sock=$(socket_dir)
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$PORT" -U postgres -d postgres \
		>/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT 'CREATE ROLE danvan_owner LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'danvan_owner') \gexec
SELECT 'CREATE ROLE danvan_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'danvan_app') \gexec
ALTER ROLE danvan_owner LOGIN;
ALTER ROLE danvan_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SELECT 'CREATE DATABASE danvan OWNER danvan_owner ENCODING ''UTF8'' TEMPLATE template0'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'danvan') \gexec
REVOKE ALL ON DATABASE danvan FROM PUBLIC;
GRANT CONNECT, TEMP ON DATABASE danvan TO danvan_app;
\connect danvan
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS ltree;
SQL
}

cmd_start() {
	[[ -x "$PG_BIN/initdb" ]] || {
		# shellcheck source=SCRIPTDIR/deps.sh
		source "$REPO/deploy/deps.sh"
		deps_install
	}
	if ! is_cluster; then
		create_cluster
	elif ((PORT_GIVEN)) && ! is_running; then
		printf '%s\n' "$PORT" >"$PORT_FILE"
	fi
	if ((THROWAWAY)) && [[ ! -e "$DIR/throwaway" ]]; then
		: >"$DIR/throwaway"
	fi
	if is_running; then
		local rp
		rp=$(running_port)
		if [[ -n "$rp" && "$rp" != "$PORT" ]]; then
			((PORT_GIVEN)) && die "already running on port $rp, not $PORT"
			PORT=$rp
		fi
	else
		as_pg mkdir -p -m 0700 "$RDIR/run" "$RDIR/log"
		write_conf
		local out
		if ! out=$(as_pg "$PG_BIN/pg_ctl" start -D "$DATA" -l "$LOGFILE" -w -t 60 2>&1); then
			printf '%s\n' "$out" >&2
			tail -n 20 "$LOGFILE" >&2 || true
			die "could not start the cluster in $DIR"
		fi
	fi
	bootstrap || die "could not create the roles and the database"
	note "cluster $DIR is up (socket $(socket_dir), port $PORT)"
}

cmd_stop() {
	local mode=${1:-fast}
	is_running || return 0
	local out
	if ! out=$(as_pg "$PG_BIN/pg_ctl" stop -D "$DATA" -m "$mode" -w -t 60 2>&1); then
		# It may have stopped between the check and the stop.
		is_running || return 0
		printf '%s\n' "$out" >&2
		die "could not stop the cluster in $DIR"
	fi
}

cmd_destroy() {
	if [[ -L "$DIR" ]]; then
		[[ -e "$DIR" ]] && cmd_stop immediate
		local target
		target=$(readlink -f "$DIR") || true
		if [[ "$target" == /var/tmp/danvan-pg.* ]]; then
			rm -rf -- "$target"
		fi
		rm -f -- "$DIR"
	elif [[ -d "$DIR" ]]; then
		cmd_stop immediate
		rm -rf -- "$DATA" "$DIR/run" "$DIR/log" "$PORT_FILE" "$DIR/throwaway"
		rmdir -- "$DIR" 2>/dev/null || true
	fi
}

cmd_env() {
	local sock host
	if is_running; then
		local rp
		rp=$(running_port)
		[[ -n "$rp" ]] && ((!PORT_GIVEN)) && PORT=$rp
	fi
	sock=$(socket_dir)
	host=$(urlenc "$sock")
	printf 'export DANVAN_DATABASE_URL=%s\n' \
		"$(shq "postgresql://danvan_app@/danvan?host=$host&port=$PORT")"
	printf 'export DANVAN_OWNER_DATABASE_URL=%s\n' \
		"$(shq "postgresql://danvan_owner@/danvan?host=$host&port=$PORT")"
	printf 'export DANVAN_SUPER_DATABASE_URL=%s\n' \
		"$(shq "postgresql://postgres@/postgres?host=$host&port=$PORT")"
	printf 'export DANVAN_PG_HOST=%s\n' "$(shq "$sock")"
	printf 'export DANVAN_PG_PORT=%s\n' "$PORT"
}

case $cmd in
start) cmd_start ;;
stop) cmd_stop fast ;;
destroy) cmd_destroy ;;
env) cmd_env ;;
-h | --help | help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
