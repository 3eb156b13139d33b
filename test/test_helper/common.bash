# test/test_helper/common.bash: loaded by every suite with `load test_helper/common`.
#
# Loads bats-support and bats-assert, sets REPO, puts the mig programs first on
# PATH and defines helpers for real SQLite files and for the PostgreSQL sandbox
# that test/run.sh starts (its settings arrive as MIG_PG_* variables).
#
# PostgreSQL tests begin with `require_pg`: bats' skip cannot leave a command
# substitution, so `url=$(pg_new_db)` alone fails (with a message) rather than
# skips when there is no sandbox.
# shellcheck shell=bash

if [[ -f /usr/lib/bats/bats-support/load.bash ]]; then
	load /usr/lib/bats/bats-support/load
	load /usr/lib/bats/bats-assert/load
else
	bats_load_library bats-support
	bats_load_library bats-assert
fi

# run --separate-stderr and run -N need bats >= 1.5 (Debian 12 has 1.8.2).
bats_require_minimum_version 1.5.0

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PATH="${MIG_BIN:-$REPO/bin}:$PATH"
export REPO PATH

# use_sanitizer_build: the rest of this suite runs the AddressSanitizer + UBSan
# build in MIG_ASAN_BIN when that is set (`make test` sets it), instead of
# MIG_BIN. The suites that feed the programs hostile input call it at their
# top. test/run.sh sets ASAN_OPTIONS and UBSAN_OPTIONS so that a finding (a
# memory error, a leak, undefined behaviour) exits 86, a code no mig program
# uses: a test that expects its exit code fails on it, and the report is on
# stderr.
use_sanitizer_build() {
	if [[ -n ${MIG_ASAN_BIN:-} ]]; then
		PATH="$MIG_ASAN_BIN:$PATH"
	fi
}

# require_pg: skip the current test unless the PostgreSQL sandbox is running.
require_pg() {
	if [[ -z ${MIG_PG_PORT:-} ]]; then
		skip "needs PostgreSQL: no sandbox (MIG_TEST_NO_PG=1, or not run through test/run.sh)"
	fi
}

# pg_new_db: create a fresh, uniquely named sandbox database; echo its URL.
pg_new_db() {
	if [[ -z ${MIG_PG_PORT:-} ]] && ((BASH_SUBSHELL > 0)); then
		echo "pg_new_db: no PostgreSQL sandbox; call require_pg first so the test is skipped" >&2
		return 1
	fi
	require_pg
	local name="t_${BATS_SUITE_TEST_NUMBER:-0}_$RANDOM$RANDOM"
	_mig_psql postgres -c "CREATE DATABASE $name" >/dev/null || return
	echo "$MIG_PG_URL_BASE/$name"
}

# pg_sql URL SQL: run SQL in the sandbox database named by URL; print rows (a|b).
pg_sql() {
	_mig_psql "$(_mig_pg_dbname "$1")" -f - <<<"$2"
}

# sqlite_sql FILE SQL: run SQL on a SQLite file (or sqlite:/// URL); print rows (a|b).
sqlite_sql() {
	sqlite3 -batch -bail "$(_mig_sqlite_path "$1")" "$2"
}

# sqlite_tables FILE: every table name in a SQLite database, sorted, one a line.
sqlite_tables() {
	sqlite_sql "$1" "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
}

# pg_tables URL: every table name (schema.name outside public), sorted, one a line.
pg_tables() {
	pg_sql "$1" "SELECT t FROM (SELECT $_mig_pg_relname AS t
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE $_mig_pg_user_tables) s ORDER BY t COLLATE \"C\""
}

# count_tables FILE_OR_URL: number of tables, not counting mig's bookkeeping
# (alembic_version, mig_history) or sqlite_*.
count_tables() {
	if _mig_is_pg "$1"; then
		pg_sql "$1" "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE $_mig_pg_user_tables AND c.relname NOT IN ('alembic_version', 'mig_history')"
	else
		sqlite_sql "$1" "SELECT count(*) FROM sqlite_schema WHERE type = 'table'
			AND name NOT IN ('alembic_version', 'mig_history')
			AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
	fi
}

# history_rows FILE_OR_URL: mig_history as "direction revision" lines, oldest
# first (a stamp to base shows revision "base"); nothing if there is no table.
history_rows() {
	local q="SELECT direction || ' ' || coalesce(revision, 'base') FROM mig_history ORDER BY id"
	if _mig_is_pg "$1"; then
		pg_sql "$1" "SELECT to_regclass('mig_history') IS NOT NULL AS has_table \\gset
\\if :has_table
$q;
\\endif"
	else
		local db
		db=$(_mig_sqlite_path "$1")
		if [[ -n $(sqlite_sql "$db" "SELECT 1 FROM sqlite_schema WHERE name = 'mig_history'") ]]; then
			sqlite_sql "$db" "$q"
		fi
	fi
}

# version_rows FILE_OR_URL: alembic_version rows, sorted, on one line; "" if no table.
version_rows() {
	if _mig_is_pg "$1"; then
		pg_sql "$1" "SELECT to_regclass('alembic_version') IS NOT NULL AS has_table \\gset
\\if :has_table
SELECT string_agg(version_num, ' ' ORDER BY version_num COLLATE \"C\") FROM alembic_version;
\\endif"
	else
		local db
		db=$(_mig_sqlite_path "$1")
		if [[ -n $(sqlite_sql "$db" "SELECT 1 FROM sqlite_schema WHERE name = 'alembic_version'") ]]; then
			sqlite_sql "$db" "SELECT group_concat(version_num, ' ')
				FROM (SELECT version_num FROM alembic_version ORDER BY version_num)"
		fi
	fi
}

# sqlite_url FILE: the sqlite:/// URL of FILE, made absolute (sqlite:////abs/path).
sqlite_url() {
	local f=$1
	[[ $f == /* ]] || f="$PWD/$f"
	echo "sqlite:///$f"
}

# fixture NAME: path of test/fixtures/NAME.
fixture() {
	echo "$REPO/test/fixtures/$1"
}

# make_migrations DIR: create DIR/versions for migration files written by the test.
make_migrations() {
	mkdir -p "$1/versions"
}

# gated_migration URL DIR: DIR/versions/aaaaaaaaaaaa_slow.sql, a migration
# that creates table slow once the test opens the gate (60 s at most):
# `pg_sql URL "SELECT nextval('gate')"`.  The gate is a sequence of URL's
# database, read outside transactions, and no table that would make the
# database look like a legacy one.
gated_migration() {
	pg_sql "$1" "CREATE SEQUENCE gate"
	mkdir -p "$2/versions"
	cat >"$2/versions/aaaaaaaaaaaa_slow.sql" <<-'SQL'
		-- revision: aaaaaaaaaaaa
		-- down_revision: none

		-- +upgrade
		DO $$
		BEGIN
			FOR i IN 1..1200 LOOP
				EXIT WHEN (SELECT is_called FROM gate);
				PERFORM pg_sleep(0.05);
			END LOOP;
		END $$;
		CREATE TABLE slow (id integer);

		-- +downgrade
		DROP TABLE slow;
	SQL
}

# no_progress: stdin without the progress lines of mig-upgrade and
# mig-downgrade ("applying 1/2 ID MESSAGE …", "applied 1/2 ID in 3.0 ms";
# progress.bats tests them), for tests that check nothing else is on stderr.
no_progress() {
	grep -Ev '^(applying|reverting) [0-9]+/[0-9]+ .*…$|^(applied|reverted) [0-9]+/[0-9]+ [^ ]+ in [0-9.]+ (ms|s|min [0-9]+ s)$' || true
}

# --- internals -------------------------------------------------------------

# Relations that are ordinary or partitioned tables outside the system schemas.
_mig_pg_user_tables="c.relkind IN ('r', 'p')
	AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
_mig_pg_relname="CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END"

# _mig_psql DBNAME ARGS...: psql on the sandbox's unix socket as its superuser.
_mig_psql() {
	if [[ -z ${MIG_PG_PORT:-} ]]; then
		echo "no PostgreSQL sandbox (MIG_PG_PORT is not set)" >&2
		return 1
	fi
	local psql=psql
	[[ -x ${MIG_PG_BINDIR:-}/psql ]] && psql=$MIG_PG_BINDIR/psql
	"$psql" -X -q -At -v ON_ERROR_STOP=1 -h "${MIG_PG_HOST:?}" -p "$MIG_PG_PORT" \
		-U "${MIG_PG_USER:?}" -d "$1" "${@:2}"
}

# _mig_pg_dbname URL: the database part of a postgresql:// URL.
_mig_pg_dbname() {
	local db=${1%%\?*}
	db=${db##*/}
	printf '%b\n' "${db//%/\\x}"
}

# _mig_is_pg FILE_OR_URL: true for postgresql://, postgres:// and postgresql+driver:// URLs.
_mig_is_pg() {
	[[ $1 =~ ^postgres(ql)?(\+[A-Za-z0-9_]+)?:// ]]
}

# _mig_sqlite_path FILE_OR_URL: the file behind a sqlite:/// URL, or FILE itself.
_mig_sqlite_path() {
	case $1 in
	sqlite:///*) echo "${1#sqlite:///}" ;;
	*) echo "$1" ;;
	esac
}

# baseline_section up|down: the upgrade or downgrade SQL of the baseline revision.
baseline_section() {
	local marker="-- +upgrade"
	[[ $1 == down ]] && marker="-- +downgrade"
	awk -v m="$marker" '/^-- \+/ { on = ($0 == m); next } on' \
		"$REPO/migrations/versions/b07a366647c3_baseline_schema.sql"
}

# make_legacy_db FILE_OR_URL: the baseline's 23 tables made by plain SQL, without
# any version table, as production databases were before they were stamped.
make_legacy_db() {
	if _mig_is_pg "$1"; then
		pg_sql "$1" "$(baseline_section up)"
	else
		sqlite_sql "$1" "$(baseline_section up)"
	fi
}

# db_fingerprint FILE_OR_URL: every table with its columns and the version rows,
# to compare a database before and after a command that must change nothing.
db_fingerprint() {
	if _mig_is_pg "$1"; then
		pg_sql "$1" "SELECT table_name || '.' || column_name || ':' || data_type
			FROM information_schema.columns WHERE table_schema = 'public'
			ORDER BY 1"
	else
		sqlite_sql "$1" "SELECT m.name || '.' || p.name || ':' || p.type
			FROM sqlite_schema m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' ORDER BY 1"
	fi
	echo "rows: $(version_rows "$1")"
}

# The JSON contract (DESIGN.md "JSON"): every `mig-* --format json` run a
# suite makes goes through _mig_json_checked, which passes the output and
# the exit status through unchanged, after checking with
# test/test_helper/validate-json.py (Debian's python3-jsonschema) that stdout
# is exactly one document valid against schemas/<program>.schema.json. A
# document that is not makes the command exit 87, a code no mig program
# uses, so the test that ran it fails, and the reason is on stderr. Runs
# other than --format json go straight to the program.
_mig_json_checked() {
	local prog=$1 json=0 arg prev=
	shift
	for arg in "$@"; do
		[[ $arg == --format=json || ($prev == --format && $arg == json) ]] && json=1
		[[ $arg == -- ]] && break
		prev=$arg
	done
	if ((json == 0)); then
		# In a subshell (`mig-upgrade ... &`, `run`, `$(...)`) the program
		# takes the subshell's place, so that $! is its pid: a test that
		# kills it must kill the program, not a shell around it.
		if [[ $BASHPID != "$$" ]]; then
			exec "$prog" "$@"
		fi
		command "$prog" "$@"
		return
	fi
	local out rcfile rc
	out=$(mktemp "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/json-out.XXXXXX")
	rcfile=$out.rc
	# stdout stays a pipe, as in `mig-status --format json | jq`
	{
		if command "$prog" "$@"; then
			echo 0 >"$rcfile"
		else
			echo $? >"$rcfile"
		fi
	} | cat >"$out"
	rc=$(<"$rcfile")
	cat "$out"
	if ! /usr/bin/python3 "$REPO/test/test_helper/validate-json.py" "$prog" "$out"; then
		rc=87
	fi
	rm -f "$out" "$rcfile"
	return "$rc"
}
for _mig_prog in mig-upgrade mig-downgrade mig-status mig-new mig-verify mig-stamp mig-import \
	mig-check-schema; do
	eval "$_mig_prog() { _mig_json_checked $_mig_prog \"\$@\"; }"
done
unset _mig_prog
