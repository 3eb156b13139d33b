#!/usr/bin/env bash
# bench.sh: mig against Alembic + SQLAlchemy and dbmate, side by side.
#
#   make bench                     build, then run every job (scripts/bench.sh)
#   BENCH_QUICK=1 make bench       small sizes, one run each: proves the script works
#
# For each job it runs mig, the peer (an Alembic project generated from the
# same migrations, on Debian's /usr/bin/python3), dbmate (the single-binary
# Go tool, from the npm registry as package.json pins it, given the same
# migrations in its own format) and the floor (a plain client doing the same
# SQL: sqlite3, psql, grep) in rounds whose order rotates, and
# prints one markdown table: medians (min-max) of wall-clock time, the ratios,
# the targets of issue 8 and notes. Each side first runs once as a warm-up;
# that run also counts the statements it sends to PostgreSQL (the server's
# statement log, by application_name) and, for jobs 4 and 5, its peak memory
# (GNU time). bench/ holds the generators and the peer's scripts; BENCH.md
# says what each job runs.
#
# Environment:
#   BENCH_RUNS=N        timed rounds per job (default 10)
#   BENCH_SLOW_RUNS=N   rounds of the jobs whose peer takes seconds: job 4 and
#                       the 10,000-revision lint (default 3)
#   BENCH_APPLY_RUNS=N  rounds of the 1,000-migration apply, whose sides take
#                       tens of seconds on a disk that syncs (default 0: the
#                       warm-up run is the one sample)
#   BENCH_QUICK=1       sizes 20/200 instead of 1,000/10,000 (job 7: 10/100
#                       instead of 100/1,000/10,000) and 0 rounds
#   BENCH_OUT=FILE      also write machine, date and table into FILE (default
#                       BENCH.md for a full run, nothing when quick); only the
#                       part between the bench:begin and bench:end markers is
#                       replaced, the rest of the file is kept
#   BENCH_JOBS="N..."   only these jobs (numbers 1 to 9, default all); a
#                       partial run writes no results file unless BENCH_OUT
#   MIG_BIN=DIR         the mig programs (default bin/)
#
# It builds nothing (make bench builds first), installs the peer with
# scripts/install-deps.sh when Alembic cannot be imported, starts its own
# PostgreSQL with scripts/pg-sandbox.sh and always stops it.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${MIG_BIN:-$REPO/bin}
PY=/usr/bin/python3
SQLITE3=sqlite3
QUICK=${BENCH_QUICK:-0}
RUNS=${BENCH_RUNS:-10}
SLOW_RUNS=${BENCH_SLOW_RUNS:-3}
APPLY_RUNS=${BENCH_APPLY_RUNS:-0}

if [[ $QUICK == 1 ]]; then
	RUNS=0 SLOW_RUNS=0 APPLY_RUNS=0
	N_TABLES=20 N_CHAIN=20 N_CHAIN_BIG=200 N_MERGE=100 N_MERGES=5
	GROWTH_SIZES='10 100'
	OUT=${BENCH_OUT:-}
else
	N_TABLES=1000 N_CHAIN=1000 N_CHAIN_BIG=10000 N_MERGE=1000 N_MERGES=50
	GROWTH_SIZES='100 1000 10000'
	OUT=${BENCH_OUT-$REPO/BENCH.md}
fi

# The jobs to run: all, or those BENCH_JOBS names (e.g. "5 6"); the results
# file is written only when all of them ran.
ALL_JOBS='1 2 3 4 5 6 7 8 9'
JOBS=${BENCH_JOBS:-$ALL_JOBS}
for j in $JOBS; do
	[[ $j == [1-9] ]] || {
		echo "bench: BENCH_JOBS: '$j' is not a job number (1 to 9)" >&2
		exit 2
	}
done
if [[ $JOBS != "$ALL_JOBS" && -z ${BENCH_OUT:-} ]]; then
	OUT=''
fi
want() {
	[[ " $JOBS " == *" $1 "* ]]
}

# The peer runs in Debian's python with its own packages, and connection
# settings of the caller must not leak into any side.
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV PYENV_VERSION PYTHONDONTWRITEBYTECODE
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGAPPNAME PGOPTIONS PGSERVICE
unset DATABASE_URL
export LC_ALL=C

die() {
	echo "bench: $*" >&2
	exit 1
}

say() {
	echo "bench: $*" >&2
}

for p in mig-verify mig-upgrade mig-stamp mig-status mig-check-schema; do
	[[ -x $BIN/$p ]] || die "$BIN/$p not found; run make (or make bench) first"
done
command -v "$SQLITE3" >/dev/null || die "the sqlite3 shell is missing; run scripts/install-deps.sh"
if ! "$PY" -c 'import alembic, sqlalchemy, psycopg2' 2>/dev/null; then
	say "the peer (Alembic, SQLAlchemy, psycopg2 for $PY) is missing; installing it"
	"$REPO/scripts/install-deps.sh"
	"$PY" -c 'import alembic, sqlalchemy, psycopg2' ||
		die "cannot import alembic, sqlalchemy and psycopg2 with $PY"
fi
# dbmate: the static binary of its x86-64 Linux npm package (package.json),
# run directly.
find_dbmate() {
	local f
	for f in "$REPO"/node_modules/@dbmate/*/bin/dbmate; do
		if [[ -x $f ]] && "$f" --version >/dev/null 2>&1; then
			echo "$f"
			return 0
		fi
	done
	return 1
}
if ! DBMATE=$(find_dbmate); then
	command -v npm >/dev/null 2>&1 || die "dbmate is missing and npm is not installed; run scripts/install-deps.sh --test"
	say "dbmate is missing; installing the version package-lock.json pins (npm ci)"
	(cd "$REPO" && npm ci --no-audit --no-fund --loglevel=error) >&2 || die "npm ci failed"
	DBMATE=$(find_dbmate) ||
		die "no runnable dbmate under node_modules/@dbmate after npm ci: package.json pins only @dbmate/linux-x64, and this is $(uname -sm)"
fi
GNU_TIME=/usr/bin/time
[[ -x $GNU_TIME ]] || {
	say "GNU time ($GNU_TIME, package time) is missing: no peak memory figures"
	GNU_TIME=''
}

work=$(mktemp -d "${TMPDIR:-/tmp}/mig-bench.XXXXXX")
pg_dir=''

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $pg_dir ]]; then
		"$REPO/scripts/pg-sandbox.sh" stop "$pg_dir" ||
			echo "bench: could not stop the PostgreSQL sandbox in $pg_dir" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- PostgreSQL --------------------------------------------------------------

PSQL='' PG_LOG=''
declare -A URL=() DBMATE_URL=()

# pg_start: the throwaway cluster, the URLs of the benchmark's databases
# (computed once, not inside a timing) and a log that names each client.
pg_start() {
	local env_file prefix i db
	# Short path: the server's unix socket lives in it.
	pg_dir=$(mktemp -d /tmp/mig-bench-pg.XXXXXX)
	say "starting PostgreSQL in $pg_dir"
	env_file=$("$REPO/scripts/pg-sandbox.sh" start "$pg_dir") || die "the PostgreSQL sandbox did not start"
	# shellcheck source=/dev/null
	. "$env_file"
	PG_LOG=$pg_dir/log
	# Debian's /usr/bin/psql is a Perl wrapper that costs more than the work;
	# the floor runs the real client.
	PSQL=$MIG_PG_BINDIR/psql
	for db in j2 j3 j4 j6 j6d j7; do
		URL[$db]=$MIG_PG_URL_BASE/$db
		# dbmate's driver asks for TLS unless told not to, as psql's prefer does not
		DBMATE_URL[$db]="$MIG_PG_URL_BASE/$db?sslmode=disable"
	done
	# Job 6 also over the unix socket, where no password is checked.
	URL[j6_sock]="postgresql://mig@/j6?host=$MIG_PG_HOST&port=$MIG_PG_PORT"
	# Every entry of the statement log names its client: 'bench|APP|LOG: ...'.
	pg_admin postgres "ALTER SYSTEM SET log_line_prefix = 'bench|%a|'" "SELECT pg_reload_conf()"
	for ((i = 0; i < 50; i++)); do
		prefix=$(PGAPPNAME=bench-prep "$PSQL" -X -At -h "$MIG_PG_HOST" -p "$MIG_PG_PORT" \
			-U mig -d postgres -c 'SHOW log_line_prefix')
		[[ $prefix == 'bench|%a|' ]] && return
		sleep 0.1
	done
	die "the server did not take the new log_line_prefix"
}

# pg_admin DB SQL...: set-up work over the unix socket, each SQL on its own.
pg_admin() {
	local db=$1 sql args=()
	shift
	for sql in "$@"; do args+=(-c "$sql"); done
	PGAPPNAME=bench-prep PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q \
		-v ON_ERROR_STOP=1 -h "$MIG_PG_HOST" -p "$MIG_PG_PORT" -U mig -d "$db" \
		"${args[@]}" >/dev/null
}

# pg_load DB FILE: run a script over the unix socket (set-up work).
pg_load() {
	PGAPPNAME=bench-prep "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$MIG_PG_HOST" \
		-p "$MIG_PG_PORT" -U mig -d "$1" -f "$2" >/dev/null
}

# floor_psql DB ARGS...: the floor's client, over TCP with the password, as
# mig and the peer connect.
floor_psql() {
	local db=$1
	shift
	PGPASSWORD=$MIG_PG_PASSWORD "${pre[@]}" "$PSQL" -X -q -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$MIG_PG_PORT" -U mig -d "$db" "$@"
}

log_size() {
	stat -c %s "$PG_LOG"
}

# statements_since OFFSET: statements logged after OFFSET by anyone but the set-up.
statements_since() {
	"$PY" "$REPO/bench/pglog.py" count "$PG_LOG" "$1" bench-prep |
		awk '{ n += $2 } END { print n + 0 }'
}

# Logging is switched on for the warm-up runs only: ALTER ROLE takes effect
# at the next connection, with no reload to wait for.
pg_logging() {
	if [[ $1 == on ]]; then
		pg_admin postgres "ALTER ROLE mig SET log_statement = 'all'"
	else
		pg_admin postgres "ALTER ROLE mig RESET log_statement"
	fi
}

if want 2 || want 3 || want 4 || want 6 || want 7 || want 8 || want 9; then
	pg_start
fi

# --- the projects both sides run ------------------------------------------------

say "generating the peer projects and the synthetic migrations in $work"
gen() {
	"$PY" "$REPO/bench/$1" "${@:2}"
}
# A mig folder DIR and its Alembic twin DIR.alembic.
gen alembic_project.py "$REPO/migrations" "$work/repo.alembic"
gen floor_sql.py "$REPO/migrations" sqlite >"$work/floor_sqlite.sql"
gen floor_sql.py "$REPO/migrations" postgresql >"$work/floor_pg.sql"
gen dbmate_project.py "$REPO/migrations" sqlite "$work/repo.dbmate.sqlite"
gen dbmate_project.py "$REPO/migrations" postgresql "$work/repo.dbmate.pg"
if want 5; then
	gen gen_graph.py linear "$N_CHAIN" "$work/chain"
	gen gen_graph.py linear "$N_CHAIN_BIG" "$work/chain_big"
	gen gen_graph.py merges "$N_MERGE" "$N_MERGES" "$work/merges"
	for d in chain chain_big merges; do
		gen alembic_project.py "$work/$d" "$work/$d.alembic"
	done
	gen floor_sql.py "$work/chain" sqlite --per-migration >"$work/floor_chain.sql"
	gen dbmate_project.py "$work/chain" sqlite "$work/chain.dbmate.sqlite"
fi
if want 7; then
	for n in $GROWTH_SIZES; do
		gen gen_graph.py linear "$n" "$work/grow$n"
		for d in sqlite postgresql; do
			# mig syncs a SQLite file it creates once, at the end: the floor
			# gets the same setting (no sync at all, its best case)
			if [[ $d == sqlite ]]; then
				echo 'PRAGMA synchronous = OFF;' >"$work/floor_grow${n}_$d.sql"
			else
				: >"$work/floor_grow${n}_$d.sql"
			fi
			gen floor_sql.py "$work/grow$n" "$d" --per-migration >>"$work/floor_grow${n}_$d.sql"
			gen dbmate_project.py "$work/grow$n" "$d" "$work/grow$n.dbmate.$d"
		done
	done
fi
if want 4; then
	gen gen_tables.py "$N_TABLES" >"$work/tables.sql"
fi

alembic_run() {
	local url=$1 project=$2
	shift 2
	MIG_ALEMBIC_URL=$url "${pre[@]}" "$PY" -m alembic -c "$project/alembic.ini" "$@"
}

# dbmate_run URL DIR ARGS...: dbmate on a project, writing no schema file.
dbmate_run() {
	local url=$1 dir=$2
	shift 2
	"${pre[@]}" "$DBMATE" --url "$url" --migrations-dir "$dir" --no-dump-schema "$@"
}

pre=()

# --- the jobs: JOB_SIDE functions (timed), JOB_prep[_SIDE] (untimed) -----------

# 1. The CI job on clean SQLite.
j1_mig() {
	TMPDIR=$work "${pre[@]}" "$BIN/mig-verify" -q -m "$REPO/migrations" \
		--expect-tables 23 --expect-table agent_services
}
j1_mig_spec() {
	TMPDIR=$work "${pre[@]}" "$BIN/mig-verify" -q -m "$REPO/migrations" \
		--expect-tables 23 --expect-table agent_services --spec "$REPO/migrations/schema.yaml"
}
j1_prep() {
	rm -f "$work/j1.db"
}
j1_peer() {
	local url=sqlite:///$work/j1.db
	alembic_run "$url" "$work/repo.alembic" upgrade head
	MIG_ALEMBIC_URL=$url "$PY" "$REPO/bench/ci_check_tables.py" 23
	MIG_ALEMBIC_URL=$url "$PY" "$REPO/bench/ci_check_agent_id.py"
}
j1_floor() {
	"${pre[@]}" "$SQLITE3" -bail "$work/j1.db" <"$work/floor_sqlite.sql"
}
j1_dbmate() {
	dbmate_run "sqlite:$work/j1.db" "$work/repo.dbmate.sqlite" up
}

# 2. Fresh PostgreSQL install.
j2_prep() {
	pg_admin postgres "DROP DATABASE IF EXISTS j2" "CREATE DATABASE j2"
}
j2_mig() {
	DATABASE_URL=${URL[j2]} "${pre[@]}" "$BIN/mig-upgrade" -q
}
j2_peer() {
	alembic_run "${URL[j2]}" "$work/repo.alembic" upgrade head
}
j2_floor() {
	floor_psql j2 -f "$work/floor_pg.sql"
}
j2_dbmate() {
	dbmate_run "${DBMATE_URL[j2]}" "$work/repo.dbmate.pg" up
}

# 3. Stamp a legacy PostgreSQL database.
j3_prep() {
	pg_admin j3 "DROP TABLE IF EXISTS alembic_version"
}
j3_mig() {
	DATABASE_URL=${URL[j3]} "${pre[@]}" "$BIN/mig-stamp" -q head
}
j3_mig_spec() {
	DATABASE_URL=${URL[j3]} "${pre[@]}" "$BIN/mig-stamp" -q head \
		--spec "$REPO/migrations/schema.yaml"
}
j3_peer() {
	alembic_run "${URL[j3]}" "$work/repo.alembic" stamp head
}
j3_floor() {
	floor_psql j3 -f "$work/floor_stamp.sql"
}

# 4. Introspect N_TABLES tables.
j4_mig() {
	DATABASE_URL=${URL[j4]} "${pre[@]}" "$BIN/mig-check-schema" --dump
}
j4_peer() {
	MIG_ALEMBIC_URL=${URL[j4]} "${pre[@]}" "$PY" "$REPO/bench/inspect_all.py"
}
j4_floor() {
	floor_psql j4 -f "$work/floor_catalog.sql"
}

# 5. Scale of the revision graph.
lint_mig() {
	"${pre[@]}" "$BIN/mig-verify" -q --lint-only -m "$1"
}
lint_floor() {
	"${pre[@]}" grep -rh -e '^-- revision:' -e '^-- down_revision:' "$1/versions"
}
j5a_mig() { lint_mig "$work/chain"; }
j5a_peer() { alembic_run '' "$work/chain.alembic" heads; }
j5a_floor() { lint_floor "$work/chain"; }
j5b_mig() { lint_mig "$work/chain_big"; }
j5b_peer() { alembic_run '' "$work/chain_big.alembic" heads; }
j5b_floor() { lint_floor "$work/chain_big"; }
j5c_mig() { lint_mig "$work/merges"; }
j5c_peer() { alembic_run '' "$work/merges.alembic" heads; }
j5c_floor() { lint_floor "$work/merges"; }
j5d_prep() {
	rm -f "$work/j5.db"
}
j5d_mig() {
	"${pre[@]}" "$BIN/mig-upgrade" -q -m "$work/chain" -d "sqlite:///$work/j5.db"
}
j5d_peer() {
	alembic_run "sqlite:///$work/j5.db" "$work/chain.alembic" upgrade head
}
j5d_floor() {
	"${pre[@]}" "$SQLITE3" -bail "$work/j5.db" <"$work/floor_chain.sql"
}
j5d_dbmate() {
	dbmate_run "sqlite:$work/j5.db" "$work/chain.dbmate.sqlite" up
}

# 6. The probe on an up-to-date database.
j6_mig() {
	DATABASE_URL=${URL[j6]} "${pre[@]}" "$BIN/mig-status" --check -q
}
j6_peer() {
	alembic_run "${URL[j6]}" "$work/repo.alembic" current
}
j6_floor() {
	floor_psql j6 -At -c 'SELECT version_num FROM alembic_version'
}
# dbmate's probe: status with an exit code (1 when something is pending).
j6_dbmate() {
	dbmate_run "${DBMATE_URL[j6d]}" "$work/repo.dbmate.pg" status --exit-code
}
# The same over the unix socket, where no password is checked: over TCP the
# SCRAM-SHA-256 exchange is most of what a probe costs the client.
j6_mig_sock() {
	DATABASE_URL=${URL[j6_sock]} "${pre[@]}" "$BIN/mig-status" --check -q
}
j6_peer_sock() {
	alembic_run "${URL[j6_sock]}" "$work/repo.alembic" current
}
j6_floor_sock() {
	"${pre[@]}" "$PSQL" -X -q -h "$MIG_PG_HOST" -p "$MIG_PG_PORT" -U mig -d j6 \
		-At -c 'SELECT version_num FROM alembic_version'
}

# 7. Growth: applying N migrations, N = GROWTH_SIZES, on both dialects; the
# sides are defined per size below (j7s100_mig, j7p1000_dbmate, ...).
grow_prep() {
	if [[ $1 == sqlite ]]; then
		rm -f "$work/j7.db"
	else
		pg_admin postgres "DROP DATABASE IF EXISTS j7" "CREATE DATABASE j7"
	fi
}
grow_mig() {
	local url=sqlite:///$work/j7.db
	[[ $1 == sqlite ]] || url=${URL[j7]}
	"${pre[@]}" "$BIN/mig-upgrade" -q -m "$work/grow$2" -d "$url"
}
grow_dbmate() {
	local url=sqlite:$work/j7.db
	[[ $1 == sqlite ]] || url=${DBMATE_URL[j7]}
	dbmate_run "$url" "$work/grow$2.dbmate.$1" up
}
grow_floor() {
	if [[ $1 == sqlite ]]; then
		"${pre[@]}" "$SQLITE3" -bail "$work/j7.db" <"$work/floor_grow${2}_sqlite.sql"
	else
		floor_psql j7 -f "$work/floor_grow${2}_postgresql.sql"
	fi
}
for n in $GROWTH_SIZES; do
	for d in sqlite postgresql; do
		j=j7${d:0:1}$n
		eval "${j}_prep() { grow_prep $d; }"
		for side in mig dbmate floor; do
			eval "${j}_$side() { grow_$side $d $n; }"
		done
	done
done

# 8. Dump the schema of the 23-table database: mig's spec, dbmate's SQL
# (dbmate runs pg_dump), pg_dump itself.
j8_mig() {
	DATABASE_URL=${URL[j6]} "${pre[@]}" "$BIN/mig-check-schema" --dump
}
j8_dbmate() {
	PATH=$MIG_PG_BINDIR:$PATH "${pre[@]}" "$DBMATE" --url "${DBMATE_URL[j6]}" \
		--schema-file "$work/dbmate_schema.sql" dump
}
j8_floor() {
	PGPASSWORD=$MIG_PG_PASSWORD "${pre[@]}" "$MIG_PG_BINDIR/pg_dump" --schema-only \
		-h 127.0.0.1 -p "$MIG_PG_PORT" -U mig -d j6
}

# 9. Wait for the server, which is up: mig's --wait, dbmate wait, pg_isready.
j9_mig() {
	DATABASE_URL=${URL[j6]} "${pre[@]}" "$BIN/mig-status" --wait 30 -q
}
j9_dbmate() {
	"${pre[@]}" "$DBMATE" --url "${DBMATE_URL[j6]}" --wait-timeout 30s wait
}
j9_floor() {
	"${pre[@]}" "$MIG_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$MIG_PG_PORT" -d j6
}

# --- measuring ------------------------------------------------------------------

declare -A MED=() LO=() HI=() CPU=() MEM=() STMTS=() IS_PG=() WITH_MEM=() ROUNDS=()
IS_PG=([j2]=1 [j3]=1 [j4]=1 [j6]=1 [j8]=1 [j9]=1)
for n in $GROWTH_SIZES; do IS_PG[j7p$n]=1; done
WITH_MEM=([j4]=1 [j5a]=1 [j5b]=1 [j5c]=1 [j5d]=1)

# run_side JOB SIDE: its set-up (untimed), then fail loudly unless it succeeds.
prep_side() {
	if declare -F "${1}_prep_$2" >/dev/null; then
		"${1}_prep_$2"
	elif declare -F "${1}_prep" >/dev/null; then
		"${1}_prep"
	fi
}

side_failed() {
	echo "bench: job $1, $2 failed; its stderr:" >&2
	tail -n 20 "$work/err" >&2
	exit 1
}

# cpu_of FILE: the children's user + system time in the output of `times`
# (its second line, e.g. "0m0.055s 0m0.031s"), in microseconds, into CPU_US.
cpu_of() {
	local line re='^([0-9]+)m([0-9]+)\.([0-9]{3})s ([0-9]+)m([0-9]+)\.([0-9]{3})s$'
	line=$(sed -n 2p "$1")
	[[ $line =~ $re ]] || die "cannot read the output of times: $line"
	local t=("${BASH_REMATCH[@]}")
	CPU_US=$(((10#${t[1]} * 60 + 10#${t[2]}) * 1000000 + 10#${t[3]} * 1000 +
		(10#${t[4]} * 60 + 10#${t[5]}) * 1000000 + 10#${t[6]} * 1000))
}

# run_timed JOB SIDE: run the side once; its wall-clock time into LAST_US and
# the CPU time of its processes (user + system, not the server's) into LAST_CPU.
run_timed() {
	local t0 t1 before
	times >"$work/times0"
	t0=$EPOCHREALTIME
	"${1}_$2" >"$work/out" 2>"$work/err" || side_failed "$1" "$2"
	t1=$EPOCHREALTIME
	times >"$work/times1"
	LAST_US=$((${t1//[.,]/} - ${t0//[.,]/}))
	cpu_of "$work/times0"
	before=$CPU_US
	cpu_of "$work/times1"
	LAST_CPU=$((CPU_US - before))
}

# warm JOB SIDE: the warm-up run; counts statements and peak memory. Its
# times are kept in LAST_US and LAST_CPU, the samples of a job measured
# with 0 rounds.
warm() {
	local job=$1 side=$2 off=''
	prep_side "$job" "$side"
	if [[ -n ${IS_PG[$job]:-} ]]; then
		off=$(log_size)
	fi
	pre=()
	if [[ -n ${WITH_MEM[$job]:-} && -n $GNU_TIME && $side != floor ]]; then
		pre=("$GNU_TIME" -f %M -o "$work/mem")
	fi
	run_timed "$job" "$side"
	if ((${#pre[@]})); then
		MEM[$job:$side]=$(tail -n 1 "$work/mem")
	fi
	pre=()
	if [[ -n $off ]]; then
		STMTS[$job:$side]=$(statements_since "$off")
	fi
}

# median NUMBER...: the median, into MEDIAN; the smallest and largest into
# MINIMUM and MAXIMUM.
median() {
	local sorted
	mapfile -t sorted < <(printf '%s\n' "$@" | sort -n)
	local n=${#sorted[@]}
	MINIMUM=${sorted[0]}
	MAXIMUM=${sorted[n - 1]}
	if ((n % 2)); then
		MEDIAN=${sorted[n / 2]}
	else
		MEDIAN=$(((sorted[n / 2 - 1] + sorted[n / 2]) / 2))
	fi
}

# measure JOB ROUNDS SIDE...: a warm-up run of each side, then ROUNDS timed
# rounds; round r starts with side number r (mod the number of sides), so no
# side always runs first or right after the same other side. With 0 rounds
# the warm-up times are the samples.
measure() {
	local job=$1 rounds=$2 r i side
	shift 2
	local sides=("$@")
	local n=${#sides[@]}
	declare -A samples=() cpu=()
	ROUNDS[$job]=$rounds
	say "job $job: a warm-up run, then $rounds round(s) of: ${sides[*]}"
	if [[ -n ${IS_PG[$job]:-} ]]; then pg_logging on; fi
	for side in "${sides[@]}"; do
		warm "$job" "$side"
		samples[$side]="$LAST_US "
		cpu[$side]="$LAST_CPU "
	done
	if [[ -n ${IS_PG[$job]:-} ]]; then pg_logging off; fi
	if ((rounds > 0)); then
		samples=() cpu=()
	fi
	for ((r = 0; r < rounds; r++)); do
		for ((i = 0; i < n; i++)); do
			side=${sides[(r + i) % n]}
			prep_side "$job" "$side"
			run_timed "$job" "$side"
			samples[$side]+="$LAST_US "
			cpu[$side]+="$LAST_CPU "
		done
	done
	for side in "${sides[@]}"; do
		# shellcheck disable=SC2086 # lists of numbers
		median ${samples[$side]}
		MED[$job:$side]=$MEDIAN LO[$job:$side]=$MINIMUM HI[$job:$side]=$MAXIMUM
		# shellcheck disable=SC2086
		median ${cpu[$side]}
		CPU[$job:$side]=$MEDIAN
	done
}

# --- set-up of the databases and the runs ----------------------------------------

started=$EPOCHREALTIME
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# The head revision: the row the one-transaction floor script inserts.
rev_head=$(sed -n "s/^INSERT INTO alembic_version (version_num) VALUES ('\(.*\)');\$/\1/p" "$work/floor_pg.sql")
[[ -n $rev_head ]] || die "no head revision in $work/floor_pg.sql"
cat >"$work/floor_stamp.sql" <<EOF
BEGIN;
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO alembic_version (version_num) VALUES ('$rev_head');
COMMIT;
EOF

# The set-up of jobs 3, 4 and 6: a legacy database, N_TABLES tables, an
# up-to-date database.
pg_databases() {
	say "creating the databases of jobs 3, 4, 6, 8 and 9"
	pg_admin postgres "CREATE DATABASE j3" "CREATE DATABASE j4" "CREATE DATABASE j6"
	pg_load j3 "$work/floor_pg.sql"
	pg_admin j3 "DROP TABLE alembic_version"
	if want 4; then pg_load j4 "$work/tables.sql"; fi
	DATABASE_URL=${URL[j6]} "$BIN/mig-upgrade" -q || die "mig-upgrade of the job 6 database failed"
	# dbmate's probe reads its own table, in a database it migrated itself
	pg_admin postgres "CREATE DATABASE j6d"
	dbmate_run "${DBMATE_URL[j6d]}" "$work/repo.dbmate.pg" up >/dev/null ||
		die "dbmate up of the job 6 database failed"
}

# The floor of job 4 runs the very queries mig sends, read from the statement
# log; the same two inspections of the 23-table database show what the
# number of statements depends on.
catalog_queries() {
	local off
	pg_logging on
	off=$(log_size)
	j4_mig >/dev/null || die "mig-check-schema --dump failed"
	"$PY" "$REPO/bench/pglog.py" sql "$PG_LOG" "$off" mig-check-schema >"$work/floor_catalog.sql"
	off=$(log_size)
	DATABASE_URL=${URL[j6]} "$BIN/mig-check-schema" --dump >/dev/null || die "mig-check-schema --dump failed"
	STMTS[j4small:mig]=$(statements_since "$off")
	off=$(log_size)
	MIG_ALEMBIC_URL=${URL[j6]} "$PY" "$REPO/bench/inspect_all.py" >/dev/null || die "inspect_all.py failed"
	STMTS[j4small:peer]=$(statements_since "$off")
	pg_logging off
	[[ -s $work/floor_catalog.sql ]] || die "no catalog query of mig-check-schema in the statement log"
}

if want 1; then
	measure j1 "$RUNS" mig mig_spec peer floor dbmate
fi
if want 2; then
	measure j2 "$RUNS" mig peer floor dbmate
fi
if want 3 || want 4 || want 6 || want 8 || want 9; then
	pg_databases
fi
if want 3; then
	measure j3 "$RUNS" mig mig_spec peer floor
fi
if want 4; then
	catalog_queries
	measure j4 "$SLOW_RUNS" mig peer floor
fi
if want 5; then
	measure j5a "$RUNS" mig peer floor
	measure j5b "$SLOW_RUNS" mig peer floor
	measure j5c "$RUNS" mig peer floor
	measure j5d "$APPLY_RUNS" mig peer floor dbmate
fi
if want 6; then
	measure j6 "$RUNS" mig peer floor dbmate mig_sock peer_sock floor_sock
fi
if want 7; then
	for n in $GROWTH_SIZES; do
		measure "j7s$n" "$APPLY_RUNS" mig dbmate floor
		measure "j7p$n" "$APPLY_RUNS" mig dbmate floor
	done
fi
# Job 7's big file (issue 19): one data migration of DATA_MB megabytes,
# run once by mig on each dialect and by psql -1 -f (the streaming floor),
# under GNU time; the peak RSS and wall clock are said after the table.
DATA_MB=50 DATA_NOTE=''
[[ $QUICK == 1 ]] && DATA_MB=3
# data_run NAME CMD...: runs CMD once; "NAME: X MB peak RSS, Y s" into DATA_NOTE.
data_run() {
	local name=$1 mem secs
	shift
	"$@" >/dev/null 2>"$work/err" || side_failed 7 "the data migration ($name)"
	read -r mem secs <"$work/data_mem"
	DATA_NOTE+="$name $(awk -v kb="$mem" 'BEGIN { printf "%.1f MB", kb / 1024 }'), $secs s; "
}
data_floor() {
	pre=("$GNU_TIME" -f '%M %e' -o "$work/data_mem")
	floor_psql j7 -1 -f "$work/data/floor.sql"
	pre=()
}
if want 7 && [[ -n $GNU_TIME ]]; then
	gen gen_data_migration.py "$work/data" "$DATA_MB" >/dev/null
	data_size=$(awk -v b="$(stat -c %s "$work/data/versions/a1.sql")" 'BEGIN { printf "%.1f MB", b / 1048576 }')
	pg_admin postgres "DROP DATABASE IF EXISTS j7" "CREATE DATABASE j7"
	data_run "mig on PostgreSQL" "$GNU_TIME" -f '%M %e' -o "$work/data_mem" \
		"$BIN/mig-upgrade" -q -m "$work/data" -d "${URL[j7]}"
	pg_admin postgres "DROP DATABASE IF EXISTS j7" "CREATE DATABASE j7"
	data_run "psql -1 -f" data_floor
	rm -f "$work/data.db"
	data_run "mig on SQLite" "$GNU_TIME" -f '%M %e' -o "$work/data_mem" \
		"$BIN/mig-upgrade" -q -m "$work/data" -d "sqlite:///$work/data.db"
	data_runs=${DATA_NOTE%; }
	DATA_NOTE="A data migration of $data_size (job 7, once each; target: peak RSS at most"
	DATA_NOTE+=" the file plus 16 MB): peak RSS and wall clock: $data_runs."
fi
if want 8; then
	measure j8 "$RUNS" mig dbmate floor
fi
if want 9; then
	measure j9 "$RUNS" mig dbmate floor
fi
elapsed=$(((${EPOCHREALTIME//[.,]/} - ${started//[.,]/}) / 1000000))

# --- the table ------------------------------------------------------------------------

# cell KEY: "median (min-max) unit" in the unit that suits the median, or a dash.
cell() {
	if [[ -z ${MED[$1]:-} ]]; then
		echo "-"
		return
	fi
	awk -v med="${MED[$1]}" -v lo="${LO[$1]}" -v hi="${HI[$1]}" 'BEGIN {
		if (med < 1000000) { d = 1000; u = "ms" } else { d = 1000000; u = "s" }
		f = (med / d < 10) ? "%.2f" : "%.1f"
		printf f " " u " (" f "-" f ")", med / d, lo / d, hi / d }'
}

# ratio A B: A / B with one decimal, or a dash.
ratio() {
	if [[ -z ${1:-} || -z ${2:-} ]]; then
		echo "-"
	else
		awk -v a="$1" -v b="$2" 'BEGIN { r = a / b; printf (r < 10 ? "%.2f×" : "%.1f×"), r }'
	fi
}

# check WHAT OK: "WHAT ✓" or "WHAT ✗".
check() {
	if [[ $2 == 1 ]]; then echo "$1 ✓"; else echo "$1 ✗"; fi
}

# at_least A B X: 1 when A / B >= X (peer over mig: the speed-up).
at_least() {
	awk -v a="$1" -v b="$2" -v x="$3" 'BEGIN { print (a / b >= x) ? 1 : 0 }'
}

mb() {
	awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'
}

# rounds KEY: how many samples the medians of KEY's job come from.
rounds() {
	local n=${ROUNDS[${1%%:*}]:-0}
	if ((n == 0)); then echo "1 (warm-up)"; else echo "$n"; fi
}

# cpu_cell MIG DBMATE PEER FLOOR: median CPU times of the sides in ms.
cpu_cell() {
	local k out=''
	for k in "$@"; do
		out+=$(awk -v c="${CPU[$k]:-}" 'BEGIN { printf (c == "" ? "-" : "%.0f"), c / 1000 }')" / "
	done
	echo "${out% / } ms"
}

# row LABEL MIG PEER FLOOR TARGETS NOTES: dbmate's figures are those of the
# same job's side named as mig's with dbmate for mig (j6:mig -> j6:dbmate).
row() {
	local label=$1 m=$2 p=$3 f=$4
	local d=${m%%:*}:dbmate${m#*:mig}
	[[ -n ${MED[$m]:-} ]] || return 0
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(rounds "$m")" \
		"$(cell "$m")" "$(cell "$d")" "$(cell "$p")" "$(cell "$f")" \
		"$(ratio "${MED[$d]:-}" "${MED[$m]:-}")" "$(ratio "${MED[$p]:-}" "${MED[$m]:-}")" \
		"$(ratio "${MED[$m]:-}" "${MED[$f]:-}")" "$(cpu_cell "$m" "$d" "$p" "$f")" "$5" "$6"
}

# growth SIDE DIALECT: the growth exponent of SIDE between each two sizes of
# job 7 (1.0 is linear: ten times the migrations, ten times the time).
growth() {
	local prev='' n out=''
	for n in $GROWTH_SIZES; do
		if [[ -n $prev && -n ${MED[j7$2$n:$1]:-} && -n ${MED[j7$2$prev:$1]:-} ]]; then
			out+=$(awk -v a="${MED[j7$2$n:$1]}" -v b="${MED[j7$2$prev:$1]}" -v n="$n" -v p="$prev" \
				'BEGIN { printf "%.2f", log(a / b) / log(n / p) }')" "
		fi
		prev=$n
	done
	echo "${out% }"
}

# Targets of issue 8: peer/mig at least X, mig/floor at most Y.
speedup() {
	check "≥$3× peer" "$(at_least "${MED[$2]}" "${MED[$1]}" "$3")"
}
near_floor() {
	check "≤$3× floor" "$(at_least "$3" "$(awk -v a="${MED[$1]}" -v b="${MED[$2]}" 'BEGIN { print a / b }')" 1)"
}
mem_note() {
	local m=${MEM[$1:mig]:-} p=${MEM[$1:peer]:-}
	[[ -n $m && -n $p ]] || {
		echo "peak memory: n/a"
		return
	}
	echo "peak RSS mig $(mb "$m"), peer $(mb "$p")"
}
stmt_note() {
	echo "statements: mig ${STMTS[$1:mig]:-?}, peer ${STMTS[$1:peer]:-?}, floor ${STMTS[$1:floor]:-?}"
}

table() {
	local t
	echo "| job | rounds | mig | dbmate | Alembic | floor | dbmate/mig | Alembic/mig | mig/floor | client CPU mig / dbmate / Alembic / floor | targets | notes |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	if want 1; then
		row "1. CI job, clean SQLite: mig-verify --expect-tables --expect-table" j1:mig j1:peer j1:floor \
			"$(speedup j1:mig j1:peer 30), $(near_floor j1:mig j1:floor 2)" \
			"peer: alembic upgrade head + 2 python checks"
		row "1. CI job, as above + --spec schema.yaml" j1:mig_spec j1:peer j1:floor \
			"$(speedup j1:mig_spec j1:peer 30), $(near_floor j1:mig_spec j1:floor 2)" "same peer and floor"
	fi
	if want 2; then
		row "2. fresh PostgreSQL install: mig-upgrade" j2:mig j2:peer j2:floor \
			"$(speedup j2:mig j2:peer 3), $(near_floor j2:mig j2:floor 1.5)" "$(stmt_note j2)"
	fi
	if want 3; then
		row "3. stamp legacy PostgreSQL: mig-stamp (replay check)" j3:mig j3:peer j3:floor \
			"$(speedup j3:mig j3:peer 3)" "$(stmt_note j3); floor: psql create+insert"
		row "3. stamp, mig-stamp --spec schema.yaml" j3:mig_spec j3:peer j3:floor \
			"$(speedup j3:mig_spec j3:peer 3)" "statements: mig ${STMTS[j3:mig_spec]:-?}"
	fi
	if want 4; then
		t=$(check "≤10 statements" "$(at_least 10 "${STMTS[j4:mig]:-999999}" 1)")
		row "4. introspect $N_TABLES tables: mig-check-schema --dump" j4:mig j4:peer j4:floor \
			"$t, $(speedup j4:mig j4:peer 20)" \
			"$(stmt_note j4) (at 23 tables: mig ${STMTS[j4small:mig]:-?}, peer ${STMTS[j4small:peer]:-?}); $(mem_note j4)"
	fi
	if want 5; then
		row "5. lint $N_CHAIN-revision chain: mig-verify --lint-only" j5a:mig j5a:peer j5a:floor \
			"-" "peer: alembic heads; floor: grep the headers; $(mem_note j5a)"
		t=$(awk -v a="${MED[j5b:mig]}" -v b="${MED[j5a:mig]}" 'BEGIN { printf "%.1f", a / b }')
		row "5. lint $N_CHAIN_BIG-revision chain" j5b:mig j5b:peer j5b:floor \
			"$(check "<100 ms" "$(at_least 100000 "${MED[j5b:mig]}" 1.000001)"), $(check "<32 MB" \
				"$(at_least 32768 "${MEM[j5b:mig]:-999999}" 1.000001)"), $(check "growth ≤12 ($t)" \
				"$(at_least 12 "$t" 1)")" "$(mem_note j5b)"
		row "5. lint $N_MERGE revisions, $N_MERGES merges" j5c:mig j5c:peer j5c:floor "-" "$(mem_note j5c)"
		row "5. apply $N_CHAIN-revision chain, clean SQLite: mig-upgrade" j5d:mig j5d:peer j5d:floor \
			"$(speedup j5d:mig j5d:peer 10)" "floor: one transaction per migration, as mig; $(mem_note j5d)"
	fi
	if want 6; then
		row "6. probe: mig-status --check (TCP, password)" j6:mig j6:peer j6:floor \
			"$(speedup j6:mig j6:peer 20)" "peer: alembic current; floor: psql SELECT; $(stmt_note j6)"
		row "6. probe, over the unix socket (no password)" j6:mig_sock j6:peer_sock j6:floor_sock \
			"$(speedup j6:mig_sock j6:peer_sock 20)" "the same, without the SCRAM exchange"
	fi
	if want 7; then
		local n d name
		for d in s p; do
			name=SQLite
			[[ $d == s ]] || name=PostgreSQL
			for n in $GROWTH_SIZES; do
				row "7. apply $n migrations, $name: mig-upgrade" "j7$d$n:mig" "j7$d$n:peer" "j7$d$n:floor" \
					"$(check "faster than dbmate" "$(at_least "${MED[j7$d$n:dbmate]}" "${MED[j7$d$n:mig]}" 1)"), $(near_floor "j7$d$n:mig" "j7$d$n:floor" 1.2)" \
					"growth exponents ($GROWTH_SIZES): mig $(growth mig "$d"), dbmate $(growth dbmate "$d"), floor $(growth floor "$d")"
			done
		done
	fi
	if want 8; then
		row "8. dump the schema (23 tables): mig-check-schema --dump" j8:mig j8:peer j8:floor "-" \
			"dbmate dump and the floor run pg_dump --schema-only"
	fi
	if want 9; then
		row "9. wait for a server that is up: mig-status --wait" j9:mig j9:peer j9:floor "-" \
			"dbmate wait; floor: pg_isready"
	fi
}

summary() {
	if [[ $QUICK == 1 ]]; then
		echo "BENCH_QUICK=1: small sizes and one run per side; these figures prove the script, not mig."
	fi
	echo "Times: wall clock, median (min-max) of the rounds; client CPU: median user + system" \
		"time of the side's own processes (not the server's). The targets are judged on wall clock." \
		"The bench took ${elapsed} s," \
		"load average $load_start at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end."
	if [[ -n $DATA_NOTE ]]; then
		echo
		echo "$DATA_NOTE"
	fi
}

machine() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $cpu, $(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM," \
		"Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
	echo "- Versions: mig $("$BIN/mig-status" --version 2>&1 | head -n 1 | awk '{ print $NF }')," \
		"SQLite $("$SQLITE3" --version | cut -d' ' -f1), PostgreSQL $("$PSQL" --version | awk '{ print $3 }')," \
		"Python $("$PY" -c 'import platform; print(platform.python_version())')," \
		"Alembic $("$PY" -c 'import alembic; print(alembic.__version__)')," \
		"SQLAlchemy $("$PY" -c 'import sqlalchemy; print(sqlalchemy.__version__)')," \
		"dbmate $("$DBMATE" --version | awk '{ print $NF }')," \
		"psycopg2 $("$PY" -c 'import psycopg2; print(psycopg2.__version__.split()[0])')"
}

result=$work/result.md
{
	table
	echo
	summary
} >"$result"
cat "$result"

if [[ -n $OUT ]]; then
	{
		echo '<!-- bench:begin (written by scripts/bench.sh; edit outside the markers) -->'
		machine
		echo
		cat "$result"
		echo '<!-- bench:end -->'
	} >"$work/section.md"
	if [[ -f $OUT ]] && grep -q '^<!-- bench:begin' "$OUT" && grep -q '^<!-- bench:end' "$OUT"; then
		awk -v section="$work/section.md" '
			/^<!-- bench:begin/ { while ((getline line < section) > 0) print line; skip = 1; next }
			/^<!-- bench:end/ { skip = 0; next }
			!skip' "$OUT" >"$work/out.md"
	else
		{
			echo '# mig against Alembic: benchmark results'
			echo
			echo "Written by \`make bench\` (scripts/bench.sh)."
			echo
			cat "$work/section.md"
		} >"$work/out.md"
	fi
	cat "$work/out.md" >"$OUT"
	say "table written to $OUT"
fi
