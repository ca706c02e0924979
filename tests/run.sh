#!/usr/bin/env bash
# Builds danvan three times (RelWithDebInfo in build/, ASan+UBSan in build-asan/, the
# libFuzzer targets with clang in build-fuzz/) and runs every CTest suite of each
# against a throwaway PostgreSQL cluster made for this run (build-fuzz runs its fuzz
# label only: each target for a few seconds).
# Options: --quick (normal build only), -L LABEL (only tests with that CTest label),
# -R REGEX (only tests whose CTest name matches).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
PSQL=/usr/lib/postgresql/15/bin/psql
# One cluster per run, so two runs side by side do not destroy each other's.
PG_DIR=$REPO/var/test-pg.$$

usage() {
	cat <<EOF
usage: tests/run.sh [--quick] [-L LABEL]... [-R REGEX]

  --quick    build and test only the normal build (build/), not build-asan/ nor
             build-fuzz/
  -L LABEL   run only the tests with this CTest label (unit, api, contract, client,
             style, fault; fuzz, which only build-fuzz/ has)
  -R REGEX   run only the tests whose CTest name matches (api_submissions, unit_http_)
EOF
}

quick=0
ctest_filter=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--quick) quick=1; shift ;;
	-L) ctest_filter+=(-L "${2:?-L needs a label}"); shift 2 ;;
	-L?*) ctest_filter+=(-L "${1#-L}"); shift ;;
	-R) ctest_filter+=(-R "${2:?-R needs a regular expression}"); shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

LOG_DIR=$(mktemp -d /tmp/danvan-tests.XXXXXX)
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	trap - EXIT INT TERM
	deploy/pg.sh destroy --dir "$PG_DIR" || echo "warning: could not remove $PG_DIR" >&2
	rm -rf "$LOG_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port in 55000-59999 that no TCP listener and no known socket file uses.
free_port() {
	local used p i offset d
	used=$(ss -Hltn 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
	offset=$((RANDOM % 5000))
	for ((i = 0; i < 5000; i++)); do
		p=$((55000 + (offset + i) % 5000))
		grep -qx "$p" <<<"$used" && continue
		for d in /tmp /run/postgresql /var/run/postgresql "$PG_DIR/run"; do
			[[ -e "$d/.s.PGSQL.$p" ]] && continue 2
		done
		printf '%s\n' "$p"
		return 0
	done
	return 1
}

# shellcheck source=SCRIPTDIR/../deploy/deps.sh
source deploy/deps.sh
deps_install

builds=(build)
((quick)) || builds+=(build-asan build-fuzz)
declare -A state detail
ok_builds=()

for b in "${builds[@]}"; do
	cc=()
	if [[ $b == build ]]; then
		cfg=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
	else
		cfg=(-DDANVAN_SANITIZE=ON)
		if [[ $b == build-fuzz ]]; then
			cfg=(-DDANVAN_FUZZ=ON -DDANVAN_TESTS=OFF)
			cc=(CC=clang)
		fi
		if [[ ${state[build]} == failed ]]; then
			state[$b]=skipped
			detail[$b]="not built: the normal build failed"
			continue
		fi
	fi
	echo "== $b: configure and build"
	if env "${cc[@]}" cmake -S . -B "$b" "${cfg[@]}" --log-level=WARNING &&
		cmake --build "$b" -j2; then
		state[$b]=built
		ok_builds+=("$b")
	else
		state[$b]=failed
		detail[$b]="build failed"
	fi
done

setup_failed=0
if [[ ${#ok_builds[@]} -gt 0 ]]; then
	echo "== database: throwaway cluster in $PG_DIR"
	deploy/pg.sh destroy --dir "$PG_DIR"
	port=$(free_port) || {
		echo "no free port in 55000-59999" >&2
		exit 1
	}
	deploy/pg.sh start --throwaway --dir "$PG_DIR" --port "$port"
	eval "$(deploy/pg.sh env --dir "$PG_DIR")"
	export DANVAN_TEST_PG_HOST=$DANVAN_PG_HOST
	export DANVAN_TEST_PG_PORT=$DANVAN_PG_PORT

	# The migrated, seeded `danvan` database is the template the API tests clone.
	bin=$REPO/${ok_builds[0]}/danvan
	export DANVAN_DEMO_CREDENTIALS=$LOG_DIR/demo-credentials.json
	export DANVAN_JWT_SECRET_FILE=$LOG_DIR/jwt.secret
	head -c 48 /dev/urandom | base64 -w0 >"$DANVAN_JWT_SECRET_FILE"
	if "$bin" migrate && "$bin" seed "$DANVAN_DEMO_CREDENTIALS"; then
		"$PSQL" -X -q -v ON_ERROR_STOP=1 "$DANVAN_SUPER_DATABASE_URL" >/dev/null -c \
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			  WHERE datname = 'danvan' AND pid <> pg_backend_pid()"
	else
		echo "error: migrating or seeding the test database failed" >&2
		setup_failed=1
	fi
fi

total_passed=0
total_failed=0
for b in "${ok_builds[@]}"; do
	echo "== $b: ctest ${ctest_filter[*]}"
	env_vars=("DANVAN_BIN=$REPO/$b/danvan")
	filter=("${ctest_filter[@]}")
	no_tests=error
	# A filter may pick tests of one build only (fuzz_* are in build-fuzz
	# alone): a build where it picks none is no failure; the summary fails
	# when it picks none anywhere.
	[[ ${#filter[@]} -eq 0 || ${#builds[@]} -eq 1 ]] || no_tests=ignore
	if [[ $b == build-fuzz ]]; then
		[[ ${#filter[@]} -gt 0 ]] || filter=(-L '^fuzz$')
	elif [[ $b == build-asan ]]; then
		env_vars+=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
		# The style checks read the source, not the binary: once is enough;
		# so do the fault tests, which take long and kill the processes
		# they start.
		[[ ${#filter[@]} -gt 0 ]] || filter=(-LE '^(style|fault)$')
	fi
	log=$LOG_DIR/$b.log
	rc=0
	env "${env_vars[@]}" ctest --test-dir "$b" --output-on-failure -j2 --timeout 600 \
		--no-tests="$no_tests" --output-log "$log" "${filter[@]}" || rc=$?
	counts=$(sed -nE 's/.*[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1 \2/p' \
		"$log" | tail -n 1)
	failed=${counts% *}
	all=${counts#* }
	if [[ -z "$counts" ]]; then
		failed=0
		all=0
	fi
	total_passed=$((total_passed + all - failed))
	total_failed=$((total_failed + failed))
	if [[ $rc -eq 0 ]]; then
		state[$b]=passed
		detail[$b]="$all tests passed"
	else
		state[$b]=failed
		detail[$b]="$failed of $all tests failed (ctest exit $rc)"
	fi
done

echo "== summary"
status=0
if ((setup_failed)); then
	echo "database setup: FAILED (migrate or seed)"
	status=1
fi
for b in "${builds[@]}"; do
	case ${state[$b]} in
	passed) echo "$b: ok, ${detail[$b]}" ;;
	*)
		echo "$b: FAILED, ${detail[$b]}"
		status=1
		;;
	esac
done
if [[ ${#ctest_filter[@]} -gt 0 && ${#ok_builds[@]} -gt 0 ]] &&
	((total_passed + total_failed == 0)); then
	echo "no test matched ${ctest_filter[*]}"
	status=1
fi
echo "tests: $total_passed passed, $total_failed failed"
exit "$status"
