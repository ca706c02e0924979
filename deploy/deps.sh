#!/usr/bin/env bash
# Installs the Debian packages that building, running and testing danvan need.
# Sourced by deploy/up.sh and tests/run.sh; call `deps_install` (or
# `deps_install --bench` to add the benchmark tools), or run it directly with the
# same options. Silent when nothing is missing.
set -euo pipefail

# Packages needed to build, run and test the server; the style tests use
# clang-format and shellcheck.
DEPS_PACKAGES=(
	build-essential cmake pkg-config
	libmicrohttpd-dev libpq-dev libjansson-dev libjwt-dev libsodium-dev zlib1g-dev
	libcmocka-dev
	postgresql-15
	python3 python3-yaml python3-jsonschema
	curl iproute2 openssl
	clang-format shellcheck
	# Spreadsheet exports, and reading them back in the tests.
	libxlsxwriter-dev python3-openpyxl
	# The fuzz targets (libFuzzer) and the sandbox after start-up.
	clang libclang-rt-14-dev libseccomp-dev
	# The browser test and the edge test (nginx with TLS and HTTP/2 in front).
	chromium chromium-driver nginx-light
)
# On Debian 12 postgresql-contrib-15 is a virtual package provided by
# postgresql-15 itself (unaccent, pg_trgm and ltree ship with the server),
# so checking postgresql-15 covers it.
DEPS_BENCH_PACKAGES=(wrk)

# deps_missing PKG... prints the packages that dpkg does not list as installed.
deps_missing() {
	local installed
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null |
		awk '$2 == "ii" { print $1 }') || true
	local p
	for p in "$@"; do
		if ! grep -qxF -- "$p" <<<"$installed"; then
			printf '%s\n' "$p"
		fi
	done
}

# deps_install [--bench] installs whatever is missing; returns non-zero on failure.
deps_install() {
	local want=("${DEPS_PACKAGES[@]}")
	if [[ "${1:-}" == "--bench" ]]; then
		want+=("${DEPS_BENCH_PACKAGES[@]}")
	elif [[ $# -gt 0 ]]; then
		echo "deps_install: unknown option: $1" >&2
		return 2
	fi

	local missing=()
	mapfile -t missing < <(deps_missing "${want[@]}")
	# Node.js may come from elsewhere (/usr/local, nodesource): only npm matters.
	if ! command -v npm >/dev/null 2>&1; then
		missing+=(nodejs npm)
	fi
	if [[ ${#missing[@]} -eq 0 ]]; then
		return 0
	fi

	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=(sudo)
		else
			echo "deps: missing packages (${missing[*]}) and not root" >&2
			return 1
		fi
	fi

	echo "deps: installing ${missing[*]}" >&2
	echo "deps: updating the package lists, then installing (a few minutes on a fresh machine)" >&2
	local log
	log=$(mktemp /tmp/danvan-deps.XXXXXX)
	if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends "${missing[@]}"; } 2>&1 | deps_progress "$log"; then
		echo "deps: apt-get failed; last lines of $log:" >&2
		tail -n 20 "$log" >&2
		return 1
	fi
	rm -f "$log"
	hash -r
	if printf '%s\n' "${missing[@]}" | grep -qxF postgresql-15; then
		deps_debian_cluster_note
	fi
}

# deps_progress LOG copies apt-get's output to LOG and prints a line on
# standard error for each stage: the package lists, the download, and each
# tenth of the packages unpacked and set up.
deps_progress() {
	local log=$1 line total=0 unpacked=0 set_up=0
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$log"
		case $line in
		*" newly installed, "*)
			total=$(awk '{ print $3 }' <<<"$line")
			echo "deps: $total packages to install" >&2
			;;
		"Need to get "*) echo "deps: downloading ${line#Need to get }" >&2 ;;
		"Fetched "*) echo "deps: $line" >&2 ;;
		"Unpacking "*)
			unpacked=$((unpacked + 1))
			deps_tenth unpacked "$unpacked" "$total"
			;;
		"Setting up "*)
			set_up=$((set_up + 1))
			deps_tenth "set up" "$set_up" "$total"
			;;
		esac
	done
}

# deps_tenth WHAT N TOTAL prints "WHAT N of TOTAL" when N is a tenth more.
deps_tenth() {
	if (($3 > 0 && ($2 * 10 / $3 > ($2 - 1) * 10 / $3))); then
		echo "deps: $1 $2 of $3 packages" >&2
	fi
}

# deps_debian_cluster_note says what installing postgresql-15 did besides.
deps_debian_cluster_note() {
	cat >&2 <<-'EOF'
	deps: note: Debian's postgresql-15 package also created its own cluster
	deps:   (15/main, port 5432) and enabled postgresql.service. danvan does not
	deps:   use it (deploy/pg.sh runs its own cluster on DANVAN_PG_PORT). To remove it:
	deps:     pg_dropcluster --stop 15 main
	deps:   and to keep the service from starting at boot:
	deps:     systemctl disable --now postgresql
	EOF
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	deps_install "$@"
fi
