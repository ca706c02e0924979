#!/usr/bin/env bash
# Takes a base backup of danvan's cluster (pg_basebackup, plain format, the WAL it needs
# streamed alongside), checks it against its manifest (pg_verifybackup) and keeps the
# newest --keep of them, removing archived WAL older than the oldest one kept. With WAL
# archiving on (deploy/pg.sh start --archive ADIR), deploy/restore.sh brings a backup
# forward to any point in time after it.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

usage() {
	cat <<EOF
usage: deploy/backup.sh [--dir DIR] [--to BACKUPS] [--keep N]

DIR is the cluster's directory (default $REPO/var/pg), BACKUPS where the backups go
(default $REPO/var/backups), N how many to keep (default 7). Prints the new backup's path.
EOF
}

die() {
	echo "backup: $*" >&2
	exit 1
}

DIR=$REPO/var/pg
TO=$REPO/var/backups
KEEP=7
while [[ $# -gt 0 ]]; do
	case $1 in
	--dir) DIR=${2:?--dir needs a value}; shift 2 ;;
	--to) TO=${2:?--to needs a value}; shift 2 ;;
	--keep) KEEP=${2:?--keep needs a value}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ "$KEEP" =~ ^[1-9][0-9]*$ ]] || die "--keep must be a positive integer"
[[ $(id -u) -eq 0 ]] || die "must run as root"

RDIR=$(readlink -f "$DIR")
PORT=$(sed -n 4p "$RDIR/data/postmaster.pid" 2>/dev/null || true)
[[ -n "$PORT" ]] || die "no cluster is running in $DIR"

as_pg() { (cd / && runuser -u postgres -- "$@"); }

mkdir -p "$TO"
chown postgres:postgres "$TO"
chmod 0700 "$TO"
TO=$(readlink -f "$TO")
as_pg test -w "$TO" || die "the postgres user cannot reach $TO"
name=base-$(date -u +%Y%m%dT%H%M%SZ)
dest=$TO/$name
[[ ! -e "$dest" ]] || die "$dest exists already"

if ! as_pg "$PG_BIN/pg_basebackup" -h "$RDIR/run" -p "$PORT" -U postgres \
	-D "$dest.partial" -Fp -X stream -c fast -l "danvan $name"; then
	rm -rf "$dest.partial"
	die "pg_basebackup failed"
fi
if ! as_pg "$PG_BIN/pg_verifybackup" -q "$dest.partial"; then
	rm -rf "$dest.partial"
	die "the backup does not match its manifest"
fi
mv "$dest.partial" "$dest"

# The newest KEEP backups stay; archived WAL that the oldest of them does not need goes.
mapfile -t all < <(find "$TO" -maxdepth 1 -type d -name 'base-*' ! -name '*.partial' | sort)
first=0
if ((${#all[@]} > KEEP)); then
	first=$((${#all[@]} - KEEP))
	for old in "${all[@]:0:first}"; do
		rm -rf -- "$old"
	done
fi
oldest=${all[first]}
archive=$(cat "$RDIR/archive" 2>/dev/null || true)
if [[ -z "$archive" ]]; then
	echo "backup: WAL archiving is off in $DIR: this backup restores only to its own end" >&2
else
	wal=$(sed -nE 's/^START WAL LOCATION: .*\(file ([0-9A-F]{24})\)$/\1/p' \
		"$oldest/backup_label")
	[[ -z "$wal" ]] || as_pg "$PG_BIN/pg_archivecleanup" "$archive" "$wal"
fi
printf '%s\n' "$dest"
