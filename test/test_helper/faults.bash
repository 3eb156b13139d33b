# test/test_helper/faults.bash: helpers of test/faults.bats and test/bad-input.bats,
# loaded after test_helper/common.
#
# The kill -9 suite: a chain of migrations that each create a table, fill it
# (some slowly enough that a kill lands inside the statement) and index it;
# the expected schema dump and row counts of every revision; and a check that
# a database is exactly at one revision.  Also: a private PostgreSQL cluster
# that a test may stop and restart without touching the shared one, and the
# "unchanged" assertion of the bad-input catalog.
# shellcheck shell=bash

# Revisions of the kill chain: f00000000001 .. f000000000NN (12 characters).
KILL_CHAIN_LEN=${KILL_CHAIN_LEN:-30}

# kill_rev I: the revision id of step I of the kill chain ("" for 0, the base).
kill_rev() {
	(($1 == 0)) || printf 'f%011d\n' "$1"
}

# kill_rows I DIALECT: rows step I inserts; steps 5, 15, 25 are the slow ones,
# long enough (a few hundred ms) for kills to land inside the statement.
kill_rows() {
	if (($1 % 10 == 5)); then
		if [[ $2 == postgresql ]]; then echo 60000; else echo 20000; fi
	else
		echo $((($1 % 7) + 3))
	fi
}

# kill_chain DIR: KILL_CHAIN_LEN migrations in DIR/versions.  Step I creates
# t_I, fills it (a recursive CTE on SQLite, generate_series on PostgreSQL, in
# dialect sections), indexes it, and every fourth step also adds a column to
# the previous table: a migration applied halfway shows in the schema dump.
kill_chain() {
	local dir=$1 i prev=none id
	mkdir -p "$dir/versions"
	for ((i = 1; i <= KILL_CHAIN_LEN; i++)); do
		id=$(kill_rev "$i")
		{
			printf -- '-- revision: %s\n-- down_revision: %s\n-- message: step %d\n\n' \
				"$id" "$prev" "$i"
			printf -- '-- +upgrade\nCREATE TABLE t_%d (id INTEGER PRIMARY KEY, v VARCHAR(40) NOT NULL);\n' "$i"
			if ((i % 4 == 0)); then
				printf 'ALTER TABLE t_%d ADD COLUMN extra_%d INTEGER;\n' $((i - 1)) "$i"
			fi
			printf -- '\n-- +upgrade sqlite\n'
			printf "INSERT INTO t_%d (id, v) WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %d) SELECT x, 'row ' || x FROM s;\n" \
				"$i" "$(kill_rows "$i" sqlite)"
			printf -- '\n-- +upgrade postgresql\n'
			printf "INSERT INTO t_%d (id, v) SELECT x, 'row ' || x FROM generate_series(1, %d) AS x;\n" \
				"$i" "$(kill_rows "$i" postgresql)"
			printf -- '\n-- +upgrade\nCREATE INDEX ix_t_%d_v ON t_%d (v);\n' "$i" "$i"
			printf -- '\n-- +downgrade\nDROP TABLE t_%d;\n' "$i"
			if ((i % 4 == 0)); then
				printf 'ALTER TABLE t_%d DROP COLUMN extra_%d;\n' $((i - 1)) "$i"
			fi
		} >"$dir/versions/${id}_step_$i.sql"
		prev=$id
	done
}

# kill_rev_index REV: sets IDX to I for the revision of step I, 0 for ""
# (base), "bad" for anything else, such as two rows.
kill_rev_index() {
	IDX=bad
	if [[ -z $1 ]]; then
		IDX=0
	elif [[ $1 =~ ^f0*([1-9][0-9]*)$ ]] && ((BASH_REMATCH[1] <= KILL_CHAIN_LEN)); then
		printf -v IDX '%d' "${BASH_REMATCH[1]}"
		local want
		printf -v want 'f%011d' "$IDX"
		[[ $want == "$1" ]] || IDX=bad
	fi
}

# kill_expected DIALECT: fills KILL_EXPECTED[I] with "t_1:N1 ... t_I:NI", the
# row counts of the tables the chain fills up to step I.
kill_expected() {
	local i acc=''
	KILL_EXPECTED=('')
	for ((i = 1; i <= KILL_CHAIN_LEN; i++)); do
		acc+="${acc:+ }t_$i:$(kill_rows "$i" "$1")"
		KILL_EXPECTED[i]=$acc
	done
}

# kill_state DB [reset]: one look at a database of the kill chain.  Sets
# KILL_ROWS (the version rows, sorted, on one line), IDX (kill_rev_index of
# them) and KILL_COUNTS ("t_1:N1 t_2:N2 ...", the row counts of every t_N
# table there is, as KILL_EXPECTED has them).  On PostgreSQL it first waits
# (up to 30 s) until no backend of a mig program is left in the database,
# such as one whose client was killed mid-statement, and sets KILL_BUSY to
# how many there were; with "reset" it then empties the database (a SQLite
# file is truncated: an empty file is an empty database).  One psql or two
# sqlite3 processes in all: on a busy machine every process counts.
kill_state() {
	local db=$1 line sql='' t
	KILL_ROWS='' KILL_COUNTS='' KILL_BUSY=0
	if _mig_is_pg "$db"; then
		while IFS= read -r line; do
			case $line in
			busy=*) KILL_BUSY=${line#busy=} ;;
			rows=*) KILL_ROWS=${line#rows=} ;;
			counts=*) KILL_COUNTS=${line#counts=} ;;
			esac
		done < <(pg_sql "$db" "$_kill_pg_look${2:+$_kill_pg_reset}")
	else
		local file out
		file=$(_mig_sqlite_path "$db")
		# The last query fails (on stderr) when there is no version table.
		out=$(sqlite3 -batch "$file" "SELECT 'table=' || substr(name, 3) FROM sqlite_schema
			WHERE type = 'table' AND name GLOB 't_[0-9]*' ORDER BY CAST(substr(name, 3) AS INTEGER);
			SELECT 'rows=' || coalesce(group_concat(version_num, ' '), '')
			FROM (SELECT version_num FROM alembic_version ORDER BY version_num)" 2>/dev/null) || true
		while IFS= read -r line; do
			case $line in
			rows=*) KILL_ROWS=${line#rows=} ;;
			table=*)
				t=${line#table=}
				sql+="${sql:+ UNION ALL }SELECT $t AS i, 't_$t:' || count(*) AS c FROM t_$t"
				;;
			esac
		done <<<"$out"
		[[ -z $sql ]] || KILL_COUNTS=$(sqlite3 -batch "$file" "SELECT group_concat(c, ' ') FROM (SELECT i, c FROM ($sql) ORDER BY i)")
		if [[ -n ${2:-} ]]; then : >"$file"; fi
	fi
	kill_rev_index "$KILL_ROWS"
}

_kill_pg_look=$(
	cat <<'SQL'
SELECT count(*) AS busy FROM pg_stat_activity
WHERE datname = current_database() AND application_name LIKE 'mig-%' \gset
\echo busy=:busy
DO $$
BEGIN
	FOR i IN 1..600 LOOP
		PERFORM pg_stat_clear_snapshot();
		EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND application_name LIKE 'mig-%');
		PERFORM pg_sleep(0.05);
	END LOOP;
END $$;
SELECT to_regclass('alembic_version') IS NOT NULL AS has_vt \gset
\if :has_vt
SELECT 'rows=' || coalesce(string_agg(version_num, ' ' ORDER BY version_num COLLATE "C"), '')
FROM alembic_version;
\else
\echo rows=
\endif
SELECT coalesce(string_agg(format('SELECT %s AS i, %L || count(*) AS c FROM public.%I',
	n, 't_' || n || ':', 't_' || n), ' UNION ALL ' ORDER BY n), '') AS q
FROM (SELECT substr(relname, 3)::int AS n FROM pg_class
	WHERE relname ~ '^t_[0-9]+$' AND relkind = 'r'
	AND relnamespace = 'public'::regnamespace) AS s \gset
SELECT length(:'q') > 0 AS has_q \gset
\if :has_q
SELECT 'counts=' || string_agg(c, ' ' ORDER BY i) FROM (:q) AS u;
\else
\echo counts=
\endif
SQL
)
_kill_pg_reset='
SET client_min_messages = warning;
DROP SCHEMA public CASCADE;
CREATE SCHEMA public;'

# kill_expect_dumps DIALECT URL_OR_FILE DIR CACHE: the schema dump of every
# revision of the chain, made by upgrading a fresh database --to each
# revision in turn, into CACHE/I.yaml (0.yaml: the empty database).
kill_expect_dumps() {
	local url=$2 dir=$3 cache=$4 i
	mkdir -p "$cache"
	mig-check-schema -d "$url" --dump >"$cache/0.yaml" || return
	for ((i = 1; i <= KILL_CHAIN_LEN; i++)); do
		mig-upgrade -q -d "$url" -m "$dir" --to "$(kill_rev "$i")" || return
		mig-check-schema -d "$url" --dump >"$cache/$i.yaml" || return
	done
}

# pg_reset URL: drop everything in URL's public schema.
pg_reset() {
	pg_sql "$1" "SET client_min_messages = warning;
		DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null
}

# --- a private PostgreSQL cluster -------------------------------------------

# own_pg_start: start a second throwaway cluster (scripts/pg-sandbox.sh) in a
# short directory of its own; sets OWN_PG_DIR, OWN_PG_PORT, OWN_PG_URL_BASE.
own_pg_start() {
	OWN_PG_DIR=$(mktemp -d /tmp/mig-pgf.XXXXXX)
	local env_file
	env_file=$("$REPO/scripts/pg-sandbox.sh" start "$OWN_PG_DIR") || return
	OWN_PG_PORT=$(. "$env_file" && echo "$MIG_PG_PORT")
	OWN_PG_URL_BASE=$(. "$env_file" && echo "$MIG_PG_URL_BASE")
	OWN_PG_BINDIR=$(. "$env_file" && echo "$MIG_PG_BINDIR")
}

# own_pg_ctl ARGS...: pg_ctl on the private cluster, as its owner.
own_pg_ctl() {
	local bin=$OWN_PG_BINDIR/pg_ctl
	if ((EUID == 0)); then
		runuser -u postgres -- "$bin" -D "$OWN_PG_DIR/data" "$@"
	else
		"$bin" -D "$OWN_PG_DIR/data" "$@"
	fi
}

# own_pg_stop_now: stop the private cluster at once (-m immediate), keeping it.
own_pg_stop_now() {
	own_pg_ctl -m immediate -w stop >/dev/null
}

# own_pg_restart: start the stopped private cluster again on its port.
own_pg_restart() {
	own_pg_ctl -l "$OWN_PG_DIR/log" -w -t 60 -o "-p $OWN_PG_PORT" start >/dev/null
}

# own_pg_remove: stop and remove the private cluster, if any.
own_pg_remove() {
	if [[ -n ${OWN_PG_DIR:-} ]]; then
		"$REPO/scripts/pg-sandbox.sh" stop "$OWN_PG_DIR" || true
		OWN_PG_DIR=''
	fi
}

# own_pg_sql DBNAME SQL: psql on the private cluster's socket.
own_pg_sql() {
	"$OWN_PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$OWN_PG_DIR" \
		-p "$OWN_PG_PORT" -U mig -d "$1" -c "$2"
}

# --- bad input ----------------------------------------------------------------

# one_migration DIR [ID [DOWN]]: DIR/versions with one good migration.
one_migration() {
	local dir=$1 id=${2:-a1b2c3d4e5f6} down=${3:-none}
	mkdir -p "$dir/versions"
	printf -- '-- revision: %s\n-- down_revision: %s\n-- message: widgets\n\n-- +upgrade\nCREATE TABLE widgets (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE widgets;\n' \
		"$id" "$down" >"$dir/versions/${id}_widgets.sql"
}

# seeded_sqlite FILE: a SQLite database at revision a1b2c3d4e5f6 of
# one_migration in $SEED_M, plus a users table: something an injection could
# destroy.
seeded_sqlite() {
	local m=${SEED_M:-$BATS_TEST_TMPDIR/seed_m}
	[[ -d $m ]] || one_migration "$m"
	mig-upgrade -q -d "$(sqlite_url "$1")" -m "$m"
	sqlite_sql "$1" "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann')"
}

# seeded_pg URL: the same on PostgreSQL.
seeded_pg() {
	local m=${SEED_M:-$BATS_TEST_TMPDIR/seed_m}
	[[ -d $m ]] || one_migration "$m"
	mig-upgrade -q -d "$1" -m "$m"
	pg_sql "$1" "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann')"
}

# full_fingerprint DB: the whole database as SQL text (sqlite3 .dump, or
# pg_dump of every schema): every table, column, type, index and row, the
# version rows included.  Stricter than db_fingerprint (which lists the
# columns and the version rows), and one process instead of several.
full_fingerprint() {
	if _mig_is_pg "$1"; then
		local pg_dump=pg_dump
		[[ -x ${MIG_PG_BINDIR:-}/pg_dump ]] && pg_dump=$MIG_PG_BINDIR/pg_dump
		"$pg_dump" -h "$MIG_PG_HOST" -p "$MIG_PG_PORT" -U "$MIG_PG_USER" --no-owner \
			--no-privileges -d "$(_mig_pg_dbname "$1")" | grep -v '^\\\(un\)\?restrict '
	else
		local f
		f=$(_mig_sqlite_path "$1")
		if [[ -e $f ]]; then sqlite3 -batch "$f" .dump; else echo "no file $f"; fi
	fi
}

# rejected CODE DB COMMAND...: COMMAND exits CODE, prints nothing on stdout,
# says something on stderr, and leaves DB exactly as it was (full_fingerprint).
# $stderr and $output stay for the caller.  With REJECTED_FINDINGS=1, stdout
# may hold findings.
rejected() {
	local code=$1 db=$2 before
	shift 2
	before=$(full_fingerprint "$db")
	run --separate-stderr "$@"
	assert_failure "$code"
	[[ ${REJECTED_FINDINGS:-} == 1 ]] || assert_output ""
	[[ -n $stderr ]] || fail "nothing on stderr"
	assert_equal "$(full_fingerprint "$db")" "$before"
}

# stderr_has TEXT...: every TEXT occurs in $stderr (with the whole $stderr in
# the failure message).
stderr_has() {
	local t
	for t in "$@"; do
		[[ $stderr == *"$t"* ]] || fail "stderr lacks: $t
--- stderr ---
$stderr"
	done
}

# stderr_lacks TEXT...: no TEXT occurs in $stderr or $output.
stderr_lacks() {
	local t
	for t in "$@"; do
		[[ $stderr != *"$t"* && $output != *"$t"* ]] || fail "output shows: $t
--- stdout ---
$output
--- stderr ---
$stderr"
	done
}
