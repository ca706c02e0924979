#!/usr/bin/env bash
# Runs danvan's own PostgreSQL 15 cluster (unix socket only, private port), apart
# from any other cluster on the machine: start (creating it, its roles, database and
# extensions), stop, destroy, and env (the export lines that point danvan at it).
# A cluster may archive its WAL (--archive) and may be a hot standby of another one
# (--standby-of: streaming replication through a replication slot), which promote
# turns into a primary. deploy/backup.sh and deploy/restore.sh build on it.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DEFAULT_PORT=54320

usage() {
	cat <<EOF
usage: deploy/pg.sh start   [--dir DIR] [--port PORT] [--throwaway] [--archive ADIR]
                            [--standby-of PDIR [--sync]]
       deploy/pg.sh stop    [--dir DIR]
       deploy/pg.sh promote [--dir DIR]
       deploy/pg.sh reload  [--dir DIR]
       deploy/pg.sh destroy [--dir DIR]
       deploy/pg.sh env     [--dir DIR] [--port PORT]

DIR defaults to $REPO/var/pg; PORT to the port the cluster was created with,
else \$DANVAN_PG_PORT, else $DEFAULT_PORT. --throwaway turns fsync off (tests only).
--archive copies every finished WAL segment to ADIR (remembered for later starts).
--standby-of makes a new cluster in DIR as a hot standby of the running cluster in
PDIR (a base backup, then streaming through a replication slot named after DIR);
--sync makes the primary wait for this standby on every commit.
promote turns a standby into a primary (pg_ctl promote); reload rewrites the
settings of a running cluster and reloads them.
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
ARCHIVE=''
STANDBY_OF=''
SYNC=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--dir) DIR=${2:?--dir needs a value}; shift 2 ;;
	--dir=*) DIR=${1#--dir=}; shift ;;
	--port) PORT=${2:?--port needs a value}; shift 2 ;;
	--port=*) PORT=${1#--port=}; shift ;;
	--throwaway) THROWAWAY=1; shift ;;
	--archive) ARCHIVE=${2:?--archive needs a directory}; shift 2 ;;
	--standby-of) STANDBY_OF=${2:?--standby-of needs a directory}; shift 2 ;;
	--sync) SYNC=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

# absdir PATH prints PATH absolute, without trailing slashes.
absdir() {
	local d=$1
	[[ "$d" == /* ]] || d=$PWD/$d
	while [[ "$d" == */ && "$d" != / ]]; do d=${d%/}; done
	printf '%s' "$d"
}

DIR=$(absdir "${DIR:-$REPO/var/pg}")
[[ -z "$ARCHIVE" ]] || ARCHIVE=$(absdir "$ARCHIVE")
[[ -z "$STANDBY_OF" ]] || STANDBY_OF=$(absdir "$STANDBY_OF")
((!SYNC)) || [[ -n "$STANDBY_OF" ]] || die "--sync goes with --standby-of"

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
cluster_name = '$(slot_name "$DIR")'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
EOF
	if [[ -s "$DIR/archive" ]]; then
		# A segment appears in the archive whole (copied aside, then renamed), so a
		# restore never reads one half-written.
		local adir
		adir=$(<"$DIR/archive")
		adir=${adir//\'/\'\'}
		cat >>"$DATA/danvan.conf" <<EOF
archive_mode = on
archive_command = 'test ! -f $adir/%f && cp %p $adir/%f.part && mv $adir/%f.part $adir/%f'
archive_timeout = 60
EOF
	fi
	if [[ -s "$DIR/synchronous-standbys" ]]; then
		# A commit waits until the standby has flushed it, even in a throwaway cluster.
		printf "synchronous_standby_names = '%s'\nsynchronous_commit = on\n" \
			"$(paste -sd, "$DIR/synchronous-standbys")" >>"$DATA/danvan.conf"
	fi
	chown postgres:postgres "$DATA/danvan.conf"
}

# slot_name DIR: the replication slot (and cluster_name) of the cluster in DIR.
slot_name() {
	local n
	n=$(basename "$1" | tr -c 'a-zA-Z0-9_\n' '_' | tr '[:upper:]' '[:lower:]')
	printf 'danvan_%s' "${n:0:50}"
}

# Makes DIR a hot standby of the running cluster in STANDBY_OF: a base backup taken
# through a new replication slot, with the connection settings written by -R.
create_standby() {
	local psock pport slot out
	[[ -f "$STANDBY_OF/data/PG_VERSION" ]] || die "no cluster in $STANDBY_OF"
	psock=$(readlink -f "$STANDBY_OF")/run
	pport=$(sed -n 4p "$STANDBY_OF/data/postmaster.pid" 2>/dev/null || true)
	[[ -n "$pport" ]] || die "the cluster in $STANDBY_OF is not running"
	slot=$(slot_name "$DIR")
	make_dir
	resolve_paths
	as_pg mkdir -p -m 0700 "$RDIR/run" "$RDIR/log"
	"$PG_BIN/psql" -X -q -h "$psock" -p "$pport" -U postgres -d postgres -c \
		"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
		  WHERE slot_name = '$slot' AND NOT active" >/dev/null ||
		die "could not reach the primary in $STANDBY_OF"
	if ! out=$(as_pg "$PG_BIN/pg_basebackup" -h "$psock" -p "$pport" -U postgres \
		-D "$DATA" -R -C -S "$slot" -X stream -c fast 2>&1); then
		printf '%s\n' "$out" >&2
		rm -rf "$DATA"
		die "pg_basebackup from $STANDBY_OF failed"
	fi
	printf '%s\n' "$PORT" >"$PORT_FILE"
	printf '%s\n' "$STANDBY_OF" >"$DIR/standby-of"
	[[ ! -e "$STANDBY_OF/throwaway" ]] || : >"$DIR/throwaway"
	rm -f "$DIR/archive" # archiving is the primary's business
	if ((SYNC)); then
		grep -qxF "$slot" "$STANDBY_OF/synchronous-standbys" 2>/dev/null ||
			printf '%s\n' "$slot" >>"$STANDBY_OF/synchronous-standbys"
	fi
	note "created standby in $DIR of $STANDBY_OF (slot $slot, port $PORT)"
}

# reload_other PDIR: rewrites the settings of the running cluster in PDIR and reloads it.
reload_other() {
	"$REPO/deploy/pg.sh" reload --dir "$1" || die "could not reload the cluster in $1"
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

# A cluster restored by deploy/restore.sh replays WAL until its target, then promotes
# itself and removes recovery.signal; wait for that (bounded), then for connections,
# even when the file is already gone: it goes before the end-of-recovery checkpoint,
# and until that is done the cluster still refuses connections.
wait_recovered() {
	local i
	if [[ -f "$DATA/recovery.signal" ]]; then
		note "replaying WAL in $DIR until the recovery target"
		for ((i = 0; i < 6000; i++)); do
			[[ -f "$DATA/recovery.signal" ]] || break
			is_running || {
				tail -n 20 "$LOGFILE" >&2 || true
				die "the cluster in $DIR stopped during recovery"
			}
			sleep 0.1
		done
		[[ ! -f "$DATA/recovery.signal" ]] ||
			die "recovery in $DIR did not end within 10 minutes"
	fi
	for ((i = 0; i < 600; i++)); do
		"$PG_BIN/pg_isready" -q -h "$(socket_dir)" -p "$PORT" && return 0
		sleep 0.1
	done
	die "the cluster in $DIR does not accept connections after recovery"
}

cmd_start() {
	[[ -x "$PG_BIN/initdb" ]] || {
		# shellcheck source=SCRIPTDIR/deps.sh
		source "$REPO/deploy/deps.sh"
		deps_install
	}
	if [[ -n "$ARCHIVE" ]]; then
		mkdir -p "$ARCHIVE"
		chown postgres:postgres "$ARCHIVE"
		chmod 0700 "$ARCHIVE"
	fi
	if ! is_cluster; then
		if [[ -n "$STANDBY_OF" ]]; then
			create_standby
		else
			create_cluster
		fi
	elif [[ -n "$STANDBY_OF" && ! -f "$DIR/standby-of" ]]; then
		die "$DIR already holds a cluster that is not a standby"
	elif ((PORT_GIVEN)) && ! is_running; then
		printf '%s\n' "$PORT" >"$PORT_FILE"
	fi
	if ((THROWAWAY)) && [[ ! -e "$DIR/throwaway" ]]; then
		: >"$DIR/throwaway"
	fi
	[[ -z "$ARCHIVE" ]] || printf '%s\n' "$ARCHIVE" >"$DIR/archive"
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
		wait_recovered
	fi
	if [[ -f "$DIR/standby-of" ]]; then
		((!SYNC)) || reload_other "$(<"$DIR/standby-of")"
		note "standby $DIR is up (socket $(socket_dir), port $PORT)"
		return 0
	fi
	bootstrap || die "could not create the roles and the database"
	note "cluster $DIR is up (socket $(socket_dir), port $PORT)"
}

# Turns the standby in DIR into a primary. Its former primary must be down (or
# fenced) first: two primaries would each take writes the other does not have.
cmd_promote() {
	is_running || die "no cluster running in $DIR"
	[[ -f "$DIR/standby-of" ]] || die "$DIR is not a standby"
	local out
	if ! out=$(as_pg "$PG_BIN/pg_ctl" promote -D "$DATA" -w -t 60 2>&1); then
		printf '%s\n' "$out" >&2
		die "could not promote $DIR"
	fi
	mv -f "$DIR/standby-of" "$DIR/promoted-from"
	note "$DIR is a primary now"
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
		rm -rf -- "$DATA" "$DIR/run" "$DIR/log" "$PORT_FILE" "$DIR/throwaway" \
			"$DIR/archive" "$DIR/standby-of" "$DIR/promoted-from" \
			"$DIR/synchronous-standbys"
		rmdir -- "$DIR" 2>/dev/null || true
	fi
}

cmd_reload() {
	is_running || die "no cluster running in $DIR"
	write_conf
	as_pg "$PG_BIN/pg_ctl" reload -D "$DATA" -s
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
promote) cmd_promote ;;
reload) cmd_reload ;;
destroy) cmd_destroy ;;
env) cmd_env ;;
-h | --help | help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
