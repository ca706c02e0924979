#!/usr/bin/env bash
# Creates a user from the command line, such as the first administrator of a
# deployment, in the database of deploy/pg.sh, with the binary that deploy/up.sh
# built. The password is read from standard input (one line).
#   echo 'a long passphrase' | deploy/admin.sh UNIT_PATH USERNAME FULL_NAME [ROLE]
# UNIT_PATH is the unit codes from the root joined by '/' (quang-ngai/binh-chuong);
# ROLE defaults to admin.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $# -lt 3 || $# -gt 4 ]]; then
	echo "usage: deploy/admin.sh UNIT_PATH USERNAME FULL_NAME [ROLE] (password on standard input)" >&2
	exit 2
fi
if [[ ! -x build/danvan ]]; then
	echo "admin: build/danvan is not built; run deploy/up.sh first" >&2
	exit 1
fi
eval "$(deploy/pg.sh env)"
if [[ ! -S "$DANVAN_PG_HOST/.s.PGSQL.$DANVAN_PG_PORT" ]]; then
	echo "admin: the database is not running; deploy/pg.sh start (or deploy/up.sh) starts it" >&2
	exit 1
fi
exec env -u DANVAN_SUPER_DATABASE_URL build/danvan user add "$1" "$2" "$3" "${4:-admin}"
