#!/usr/bin/env bash
# Restores a base backup made by deploy/backup.sh into a new cluster directory and
# replays the archived WAL up to a point in time (or to the end of the archive), then
# promotes it, so it takes writes as a primary. The cluster it came from is not touched:
# point danvan at the restored one (deploy/pg.sh env --dir DIR) once it is up.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

usage() {
	cat <<EOF
usage: deploy/restore.sh --backup BASE --dir DIR --port PORT [--archive ADIR] [--to-time TIME]

BASE is a backup directory printed by deploy/backup.sh, DIR a new cluster directory,
ADIR the WAL archive of the cluster the backup came from (without it, the restore stops
at the end of the backup), TIME a timestamp with time zone ('2026-12-02 10:15:00+07'):
the last transaction replayed is the last one committed before it.
EOF
}

die() {
	echo "restore: $*" >&2
	exit 1
}

BASE=''
DIR=''
PORT=''
ARCHIVE=''
TO_TIME=''
while [[ $# -gt 0 ]]; do
	case $1 in
	--backup) BASE=${2:?--backup needs a value}; shift 2 ;;
	--dir) DIR=${2:?--dir needs a value}; shift 2 ;;
	--port) PORT=${2:?--port needs a value}; shift 2 ;;
	--archive) ARCHIVE=${2:?--archive needs a value}; shift 2 ;;
	--to-time) TO_TIME=${2:?--to-time needs a value}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ -n "$BASE" && -n "$DIR" && -n "$PORT" ]] || {
	usage >&2
	exit 2
}
[[ $(id -u) -eq 0 ]] || die "must run as root"
[[ -f "$BASE/PG_VERSION" && -f "$BASE/backup_label" ]] || die "$BASE is not a base backup"
[[ -z "$ARCHIVE" || -d "$ARCHIVE" ]] || die "no archive in $ARCHIVE"
[[ ! -e "$DIR/data" ]] || die "$DIR holds a cluster already"
if [[ -n "$TO_TIME" ]]; then
	date -d "$TO_TIME" >/dev/null 2>&1 || die "not a time: $TO_TIME"
fi

as_pg() { (cd / && runuser -u postgres -- "$@"); }
sq() { printf "'%s'" "${1//\'/\'\'}"; }

mkdir -p "$DIR"
chown postgres:postgres "$DIR"
chmod 0700 "$DIR"
RDIR=$(readlink -f "$DIR")
as_pg "$PG_BIN/pg_verifybackup" -q -n "$BASE" || die "$BASE does not match its manifest"
cp -a "$BASE" "$RDIR/data"
chown -R postgres:postgres "$RDIR/data"
rm -f "$RDIR/data/standby.signal" "$RDIR/data/backup_manifest"
: >"$RDIR/data/recovery.signal"
{
	echo "# Written by deploy/restore.sh; reset once the restore has finished."
	echo "hot_standby = off"
	echo "recovery_target_action = 'promote'"
	if [[ -n "$ARCHIVE" ]]; then
		echo "restore_command = $(sq "cp $(readlink -f "$ARCHIVE")/%f %p")"
	fi
	if [[ -n "$TO_TIME" ]]; then
		echo "recovery_target_time = $(sq "$TO_TIME")"
	fi
} >>"$RDIR/data/postgresql.auto.conf"
chown postgres:postgres "$RDIR/data/postgresql.auto.conf"

# deploy/pg.sh's start returns once recovery has ended and the cluster was promoted.
"$REPO/deploy/pg.sh" start --dir "$DIR" --port "$PORT"
eval "$("$REPO/deploy/pg.sh" env --dir "$DIR")"
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$DANVAN_SUPER_DATABASE_URL" >/dev/null <<'SQL'
ALTER SYSTEM RESET hot_standby;
ALTER SYSTEM RESET recovery_target_action;
ALTER SYSTEM RESET restore_command;
ALTER SYSTEM RESET recovery_target_time;
SELECT pg_reload_conf();
SQL
[[ $("$PG_BIN/psql" -X -qAt "$DANVAN_SUPER_DATABASE_URL" -c 'SELECT pg_is_in_recovery()') == f ]] ||
	die "the restored cluster in $DIR is still recovering"
echo "restore: $DIR is up as a primary, restored from $BASE${TO_TIME:+ to $TO_TIME}" >&2
