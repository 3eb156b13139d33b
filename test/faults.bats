#!/usr/bin/env bats
# Faults: mig-upgrade killed with SIGKILL at random moments, the PostgreSQL
# server stopped under it or out of reach, a SQLite file on a full file
# system or on a read-only file.  Each time the database must be exactly at
# one revision (its schema and rows those of that revision), never between,
# and a new run must finish the work.

load test_helper/common
load test_helper/faults

KILL_RUNS=${KILL_RUNS:-50}

teardown() {
	own_pg_remove
	if [[ -n ${KILL_DIR:-} ]]; then rm -rf "$KILL_DIR"; fi
	if [[ -n ${RO_FILE:-} ]]; then chattr -i "$RO_FILE" 2>/dev/null || true; fi
	if [[ -n ${MOUNTED:-} ]]; then umount "$MOUNTED" 2>/dev/null || umount -l "$MOUNTED" || true; fi
	if [[ -n ${NOBODY_DIR:-} ]]; then chmod -R u+w "$NOBODY_DIR" 2>/dev/null; rm -rf "$NOBODY_DIR"; fi
}

# now_ms: the wall clock in milliseconds.
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# nap MS: sleep MS milliseconds without starting a process.
nap() {
	[[ -n ${NAP_FD:-} ]] || exec {NAP_FD}<> <(:)
	read -r -t "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))" -u "$NAP_FD" || true
}

# check_at_one_revision DB URL CACHE WHAT: the database is at one revision
# of the chain, its tables hold that revision's rows (KILL_EXPECTED), its
# schema dump is the one of a fresh database upgraded --to that revision,
# and mig_history holds one 'up' row for each applied step, no more and no
# fewer (the row commits with its step).  Sets IDX to the revision's step
# number.
check_at_one_revision() {
	local db=$1 url=$2 cache=$3 what=$4
	kill_state "$db"
	[[ $IDX != bad ]] || fail "$what: the version table holds '$KILL_ROWS', not one revision of the chain"
	[[ $KILL_COUNTS == "${KILL_EXPECTED[IDX]}" ]] ||
		fail "$what: at '${KILL_ROWS:-base}' the tables hold '$KILL_COUNTS', expected '${KILL_EXPECTED[IDX]}'"
	mig-check-schema -d "$url" --dump >"$BATS_TEST_TMPDIR/got.yaml" ||
		fail "$what: mig-check-schema --dump failed"
	if ! cmp -s "$BATS_TEST_TMPDIR/got.yaml" "$cache/$IDX.yaml"; then
		fail "$what: at '${KILL_ROWS:-base}' the schema is not that revision's:
$(diff "$cache/$IDX.yaml" "$BATS_TEST_TMPDIR/got.yaml" | head -40)"
	fi
	local i want='' got
	for ((i = 1; i <= IDX; i++)); do want+="${want:+$'\n'}up $(kill_rev "$i")"; done
	got=$(history_rows "$db")
	[[ $got == "$want" ]] ||
		fail "$what: at '${KILL_ROWS:-base}' mig_history holds '$(tr '\n' ' ' <<<"$got")', not one 'up' row for each of the $IDX applied steps"
}

# kill_runs DIALECT: KILL_RUNS upgrades of the chain, each on a fresh
# database and killed with SIGKILL after a random delay within the time a
# whole run takes; after each the database is at one revision, and a new
# mig-upgrade reaches head.  Prints the figures to fd 3.
kill_runs() {
	local dialect=$1 m=$BATS_TEST_TMPDIR/chain cache=$BATS_TEST_TMPDIR/expect
	local url db ref t0 full r delay pid st landed=0 between=0 at_base=0 at_head=0 busy=0
	local head busy_what="with a transaction open: a hot journal"
	[[ $dialect == postgresql ]] && busy_what="seen still running their statement on the server"
	head=$(kill_rev "$KILL_CHAIN_LEN")
	kill_chain "$m"
	kill_expected "$dialect"
	if [[ $dialect == sqlite ]]; then
		# The files live in memory when they can: a kill -9 loses no more
		# there than on disk (the kernel keeps what was written), and a
		# run without fsync is four times quicker.
		KILL_DIR=$(mktemp -d /dev/shm/mig-kill.XXXXXX 2>/dev/null) ||
			KILL_DIR=$(mktemp -d "$BATS_TEST_TMPDIR/kill.XXXXXX")
		ref=$KILL_DIR/ref.db
		: >"$ref"
		kill_expect_dumps "$dialect" "$(sqlite_url "$ref")" "$m" "$cache"
		db=$KILL_DIR/kill.db
		url=$(sqlite_url "$db")
	else
		ref=$(pg_new_db)
		kill_expect_dumps "$dialect" "$ref" "$m" "$cache"
		url=$(pg_new_db)
		db=$url
	fi
	# How long a whole run takes here and now (the quicker of two): the
	# kills fall within it.
	for r in 1 2; do
		if [[ $dialect == sqlite ]]; then rm -f "$db"; else pg_reset "$url"; fi
		t0=$(now_ms)
		mig-upgrade -q -d "$url" -m "$m"
		t0=$(($(now_ms) - t0))
		((r == 1 || t0 < full)) && full=$t0
	done
	check_at_one_revision "$db" "$url" "$cache" "calibration run"
	assert_equal "$IDX" "$KILL_CHAIN_LEN"

	for ((r = 1; r <= KILL_RUNS; r++)); do
		# Each run starts on an empty database: kill_state ... reset below
		# empties it for the next (an empty file is an empty SQLite database).
		if ((r == 1)); then
			if [[ $dialect == sqlite ]]; then : >"$db"; else pg_reset "$url"; fi
		fi
		delay=$(((RANDOM * 32768 + RANDOM) % (full * 9 / 10 + 1)))
		mig-upgrade -q -d "$url" -m "$m" >"$BATS_TEST_TMPDIR/run.out" 2>&1 &
		pid=$!
		nap "$delay"
		kill -9 "$pid" 2>/dev/null || true
		st=0
		wait "$pid" || st=$?
		if ((st == 137)); then
			landed=$((landed + 1))
		elif ((st != 0)); then
			fail "run $r: mig-upgrade exited $st before the kill: $(cat "$BATS_TEST_TMPDIR/run.out")"
		fi
		if [[ $dialect == sqlite && -e $db-journal ]]; then
			busy=$((busy + 1))	# killed inside a transaction: a hot journal
		fi
		# On PostgreSQL this first waits for the killed client's backend,
		# which runs on to the end of its statement.
		check_at_one_revision "$db" "$url" "$cache" "run $r (killed after $delay ms, exit $st)"
		((KILL_BUSY > 0)) && busy=$((busy + 1))
		if ((IDX == 0)); then
			at_base=$((at_base + 1))
		elif ((IDX == KILL_CHAIN_LEN)); then
			at_head=$((at_head + 1))
		else
			between=$((between + 1))
		fi
		mig-upgrade -q -d "$url" -m "$m" >"$BATS_TEST_TMPDIR/rerun.out" 2>&1 ||
			fail "run $r: the upgrade after the kill failed: $(cat "$BATS_TEST_TMPDIR/rerun.out")"
		if ((r < KILL_RUNS)); then kill_state "$db" reset; else kill_state "$db"; fi
		[[ $KILL_ROWS == "$head" && $KILL_COUNTS == "${KILL_EXPECTED[KILL_CHAIN_LEN]}" ]] ||
			fail "run $r: after the new run the database is at '$KILL_ROWS' with '$KILL_COUNTS', not at head"
	done
	check_at_one_revision "$db" "$url" "$cache" "the last run, finished"
	echo "# $dialect: $KILL_RUNS kill -9 runs (a whole run took ${full} ms):" \
		"$landed landed mid-run ($busy $busy_what);" \
		"afterwards $at_base at base, $between between base and head," \
		"$at_head at head; every one at exactly one revision" >&3
	((landed >= KILL_RUNS / 2)) || fail "only $landed of $KILL_RUNS kills landed while mig-upgrade ran"
}

@test "kill -9 at random moments of a 30-migration SQLite upgrade leaves it at exactly one revision, and a new run finishes" {
	kill_runs sqlite
}

@test "kill -9 at random moments of a 30-migration PostgreSQL upgrade leaves it at exactly one revision, and a new run finishes" {
	require_pg
	kill_runs postgresql
}

@test "after a kill -9 inside a SQLite migration, mig-status and mig-check-schema still read the database" {
	m=$BATS_TEST_TMPDIR/slow
	make_migrations "$m"
	printf -- '-- revision: s1\n-- down_revision: none\n\n-- +upgrade\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n' \
		>"$m/versions/s1_a.sql"
	printf -- "-- revision: s2\n-- down_revision: s1\n\n-- +upgrade\nCREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO b (id, v) WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 50000000) SELECT x, 'row ' || x FROM s;\n" \
		>"$m/versions/s2_b.sql"
	db=$BATS_TEST_TMPDIR/hot.db
	mig-upgrade -q -d "$(sqlite_url "$db")" -m "$m" &
	pid=$!
	# Wait until s2's insert has written pages: the journal is hot from then on.
	for ((i = 0; i < 200; i++)); do
		[[ -e $db-journal ]] && (($(stat -c %s "$db") > 200000)) && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	[[ -e $db-journal ]] || fail "the kill did not land inside the migration"
	# mig-status and mig-check-schema open the file read-only: a hot journal
	# left by the crash must not turn into "attempt to write a readonly database".
	run --separate-stderr mig-status -d "$(sqlite_url "$db")" -m "$m"
	assert_success
	assert_line "current:  s1"
	run --separate-stderr mig-check-schema -d "$(sqlite_url "$db")" --dump
	assert_success
	refute_output --partial "b:"
}

# ---- PostgreSQL stopped or out of reach ---------------------------------------

# stop_chain DIR: s1 creates a; s2 creates b and then sleeps 20 s while the
# schema slow_please exists; s3 creates c.
stop_chain() {
	make_migrations "$1"
	printf -- '-- revision: s1\n-- down_revision: none\n\n-- +upgrade\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE a;\n' \
		>"$1/versions/s1_a.sql"
	printf -- "-- revision: s2\n-- down_revision: s1\n\n-- +upgrade\nCREATE TABLE b (id INTEGER PRIMARY KEY);\nINSERT INTO b VALUES (1);\nSELECT pg_sleep(20) FROM pg_namespace WHERE nspname = 'slow_please';\nCREATE TABLE b2 (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE b2;\nDROP TABLE b;\n" \
		>"$1/versions/s2_b.sql"
	printf -- '-- revision: s3\n-- down_revision: s2\n\n-- +upgrade\nCREATE TABLE c (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE c;\n' \
		>"$1/versions/s3_c.sql"
}

@test "PostgreSQL stopped during a slow migration: exit 3, a clear message, and one revision after the restart" {
	require_pg
	own_pg_start
	# The sandbox turns synchronous_commit off for speed: an immediate stop
	# could then lose s1's commit, which a real server would keep.
	own_pg_sql postgres "ALTER SYSTEM SET synchronous_commit = on"
	own_pg_sql postgres "SELECT pg_reload_conf()" >/dev/null
	own_pg_sql postgres "CREATE DATABASE stopped"
	own_pg_sql stopped "CREATE SCHEMA slow_please"
	url=$OWN_PG_URL_BASE/stopped
	m=$BATS_TEST_TMPDIR/m
	stop_chain "$m"
	mig-upgrade -d "$url" -m "$m" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[[ $(own_pg_sql postgres "SELECT count(*) FROM pg_stat_activity
			WHERE query LIKE '%pg_sleep(20)%' AND state = 'active'
			AND pid <> pg_backend_pid()") == 1 ]] && break
		sleep 0.05
	done
	((i < 200)) || fail "s2 never started: $(cat "$BATS_TEST_TMPDIR/err")"
	own_pg_stop_now
	st=0
	wait "$pid" || st=$?
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	assert_equal "$st" 3
	[[ $stderr == *"server closed the connection unexpectedly"* ||
		$stderr == *"terminating connection due to administrator command"* ||
		$stderr == *"lost the connection"* ]] || fail "no clear message: $stderr"
	[[ $stderr == *"s2_b.sql"* ]] || fail "the message does not name the migration that was running: $stderr"
	[[ $stderr != *"mig-test-pw"* ]] || fail "the password was printed: $stderr"
	own_pg_restart
	assert_equal "$(own_pg_sql stopped "SELECT string_agg(version_num, ' ') FROM alembic_version")" "s1"
	assert_equal "$(own_pg_sql stopped "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")" \
		"a alembic_version mig_history"
	own_pg_sql stopped "DROP SCHEMA slow_please"
	run --separate-stderr mig-upgrade -q -d "$url" -m "$m"
	assert_success
	assert_equal "$(own_pg_sql stopped "SELECT string_agg(version_num, ' ') FROM alembic_version")" "s3"
}

# stopped_at_commit LAST: s2's COMMIT waits in a deferred trigger and the
# server is stopped then; s3 follows unless LAST is s2 (then s2's COMMIT is
# the run's last, sent alone, not with the next BEGIN).
stopped_at_commit() {
	require_pg
	own_pg_start
	own_pg_sql postgres "ALTER SYSTEM SET synchronous_commit = on"
	own_pg_sql postgres "SELECT pg_reload_conf()" >/dev/null
	own_pg_sql postgres "CREATE DATABASE at_commit"
	own_pg_sql at_commit "CREATE SCHEMA slow_please"
	url=$OWN_PG_URL_BASE/at_commit
	m=$BATS_TEST_TMPDIR/m
	mkdir -p "$m/versions"
	printf -- '-- revision: s1\n-- down_revision: none\n\n-- +upgrade\nCREATE TABLE a (id int);\n' >"$m/versions/s1.sql"
	# s2's row fires a trigger deferred to its COMMIT, which waits there
	printf -- '%s\n' '-- revision: s2' '-- down_revision: s1' '' '-- +upgrade' 'CREATE TABLE b (id int);' \
		'CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(20) FROM pg_namespace WHERE nspname = $q$slow_please$q$; RETURN NULL; END $$;' \
		'CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON b DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow();' \
		'INSERT INTO b VALUES (1);' >"$m/versions/s2.sql"
	[[ $1 == s2 ]] ||
		printf -- '-- revision: s3\n-- down_revision: s2\n\n-- +upgrade\nCREATE TABLE c (id int);\n' >"$m/versions/s3.sql"
	mig-upgrade -q -d "$url" -m "$m" --to s1
	mig-upgrade -d "$url" -m "$m" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[[ $(own_pg_sql postgres "SELECT count(*) FROM pg_stat_activity
			WHERE query LIKE 'COMMIT%' AND wait_event = 'PgSleep'") == 1 ]] && break
		sleep 0.05
	done
	((i < 200)) || fail "s2's COMMIT never started: $(cat "$BATS_TEST_TMPDIR/err")"
	own_pg_stop_now
	st=0
	wait "$pid" || st=$?
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	assert_equal "$st" 3
	[[ $stderr == *"s2.sql: lost the connection to "*" before the server answered the COMMIT"* ]] || fail "$stderr"
	[[ $stderr == *"whether the upgrade of s2 was committed is not known; check with mig-status"* ]] || fail "$stderr"
	[[ $stderr != *"applied 1/"*" s2"* && $stderr != *"applying 2/2"* ]] || fail "$stderr"
	[[ $stderr != *"mig-test-pw"* ]] || fail "the password was printed: $stderr"
	own_pg_restart
	assert_equal "$(own_pg_sql at_commit "SELECT string_agg(version_num, ' ') FROM alembic_version")" "s1"
	own_pg_sql at_commit "DROP SCHEMA slow_please"
	run --separate-stderr mig-upgrade -q -d "$url" -m "$m"
	assert_success
	assert_equal "$(own_pg_sql at_commit "SELECT string_agg(version_num, ' ') FROM alembic_version")" "$1"
	assert_equal "$(own_pg_sql at_commit "SELECT count(*) FROM b")" "1"
}

@test "PostgreSQL stopped while it runs a step's COMMIT (sent with the next step's BEGIN): exit 3, the step is not counted, the message says its outcome is not known" {
	stopped_at_commit s3
}

@test "PostgreSQL stopped while it runs the last step's COMMIT (sent alone): the same" {
	stopped_at_commit s2
}

# closed_port: a TCP port on 127.0.0.1 that nothing listens on.
closed_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		(: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
			echo "$p"
			return
		}
	done
	return 1
}

@test "a PostgreSQL server that refuses the connection: exit 3, connection refused, no password" {
	one_migration "$BATS_TEST_TMPDIR/m"
	port=$(closed_port)
	run --separate-stderr mig-upgrade -d "postgresql://mig:Refused-Secret-1@127.0.0.1:$port/db" -m "$BATS_TEST_TMPDIR/m"
	assert_failure 3
	assert_output ""
	stderr_has "cannot connect to postgresql://mig:***@127.0.0.1:$port/db" "Connection refused"
	stderr_lacks "Refused-Secret-1"
}

@test "an unknown PostgreSQL host: exit 3, the host named, no password" {
	one_migration "$BATS_TEST_TMPDIR/m"
	run --separate-stderr mig-status -d "postgresql://mig:Unknown-Secret-2@host.invalid/db" -m "$BATS_TEST_TMPDIR/m"
	assert_failure 3
	assert_output ""
	stderr_has "could not translate host name \"host.invalid\""
	stderr_lacks "Unknown-Secret-2"
}

@test "a wrong PostgreSQL password: exit 3, authentication failed, the password in no output" {
	require_pg
	url=$(pg_new_db)
	bad=${url/:$MIG_PG_PASSWORD@/:Wrong-Secret-3@}
	one_migration "$BATS_TEST_TMPDIR/m"
	for prog in mig-upgrade mig-status mig-verify; do
		run --separate-stderr env GITHUB_ACTIONS= "$prog" -d "$bad" -m "$BATS_TEST_TMPDIR/m" --format json
		assert_failure 3
		stderr_has "password authentication failed for user \"mig\"" "postgresql://mig:***@"
		stderr_lacks "Wrong-Secret-3"
	done
	assert_equal "$(pg_tables "$url")" ""
}

@test "--wait 2 against a closed port gives up after about 2 s with exit 3" {
	one_migration "$BATS_TEST_TMPDIR/m"
	port=$(closed_port)
	t0=$(now_ms)
	run --separate-stderr mig-upgrade --wait 2 -d "postgresql://mig:Wait-Secret-4@127.0.0.1:$port/db" -m "$BATS_TEST_TMPDIR/m"
	took=$(($(now_ms) - t0))
	assert_failure 3
	assert_output ""
	stderr_has "Connection refused"
	stderr_lacks "Wait-Secret-4"
	((took >= 1500)) || fail "gave up after $took ms: --wait 2 did not wait"
	((took < 15000)) || fail "still trying after $took ms: --wait 2 did not expire"
}

# ---- SQLite: a full file system, a read-only file ----------------------------

# space_chain DIR: s1 creates a (small); s2 writes about 2 MB.
space_chain() {
	make_migrations "$1"
	printf -- '-- revision: s1\n-- down_revision: none\n\n-- +upgrade\nCREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a VALUES (1);\n\n-- +downgrade\nDROP TABLE a;\n' \
		>"$1/versions/s1_a.sql"
	printf -- "-- revision: s2\n-- down_revision: s1\n\n-- +upgrade\nCREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO b (id, v) WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 20000) SELECT x, printf('%%0100d', x) FROM s;\n\n-- +downgrade\nDROP TABLE b;\n" \
		>"$1/versions/s2_b.sql"
}

# small_tmpfs DIR: mount a 300 KB tmpfs on DIR, or skip saying why.
small_tmpfs() {
	mkdir -p "$1"
	if ! mount -t tmpfs -o size=300k tmpfs "$1" 2>"$BATS_TEST_TMPDIR/mount.err"; then
		skip "cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): $(cat "$BATS_TEST_TMPDIR/mount.err")"
	fi
	MOUNTED=$1
}

@test "a SQLite upgrade that runs out of space exits 3 and leaves the database intact at the last revision" {
	space_chain "$BATS_TEST_TMPDIR/m"
	small_tmpfs "$BATS_TEST_TMPDIR/full"
	db=$BATS_TEST_TMPDIR/full/app.db
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" -m "$BATS_TEST_TMPDIR/m"
	assert_failure 3
	stderr_has "s2_b.sql:6: database or disk is full" "the database is still at s1"
	assert_equal "$(sqlite_sql "$db" "PRAGMA integrity_check")" "ok"
	assert_equal "$(version_rows "$db")" "s1"
	assert_equal "$(sqlite_tables "$db")" "$(printf 'a\nalembic_version\nmig_history')"
	assert_equal "$(history_rows "$db")" "up s1"
	assert_equal "$(sqlite_sql "$db" "SELECT count(*) FROM a")" 1
	# With room again, the same command finishes.
	mount -o remount,size=20m "$BATS_TEST_TMPDIR/full"
	run --separate-stderr mig-upgrade -q -d "$(sqlite_url "$db")" -m "$BATS_TEST_TMPDIR/m"
	assert_success
	assert_equal "$(version_rows "$db")" "s2"
}

@test "after running out of space, mig-status reads the SQLite database without recovery by hand" {
	space_chain "$BATS_TEST_TMPDIR/m"
	small_tmpfs "$BATS_TEST_TMPDIR/full"
	db=$BATS_TEST_TMPDIR/full/app.db
	run mig-upgrade -d "$(sqlite_url "$db")" -m "$BATS_TEST_TMPDIR/m"
	assert_failure 3
	run --separate-stderr mig-status -d "$(sqlite_url "$db")" -m "$BATS_TEST_TMPDIR/m"
	assert_success
	assert_line "current:  s1"
}

# ro_setup: a world-readable directory (outside BATS_TEST_TMPDIR, which
# only root may enter) with space_chain and a database at s1, for runuser.
ro_setup() {
	NOBODY_DIR=$(mktemp -d /tmp/mig-ro.XXXXXX)
	chmod 755 "$NOBODY_DIR"
	space_chain "$NOBODY_DIR/m"
	db=$NOBODY_DIR/app.db
	mig-upgrade -q -d "$(sqlite_url "$db")" -m "$NOBODY_DIR/m" --to s1
	before=$(full_fingerprint "$db")
}

# ro_refused COMMAND...: exit 3, the database file named as read-only, and
# nothing changed.
ro_refused() {
	run --separate-stderr "$@"
	assert_failure 3
	stderr_has "readonly"
	[[ $stderr == *"app.db"* ]] || fail "the message does not name the read-only database file: $stderr"
	assert_equal "$(full_fingerprint "$db")" "$before"
}

@test "a read-only SQLite file (chmod 444, the upgrade run as nobody) exits 3 and stays unchanged" {
	command -v runuser >/dev/null || skip "runuser is not installed"
	ro_setup
	chmod 777 "$NOBODY_DIR"
	chmod 444 "$db"
	ro_refused runuser -u nobody -- "$(type -P mig-upgrade)" -d "$(sqlite_url "$db")" -m "$NOBODY_DIR/m"
}

@test "a SQLite file in a read-only directory (chmod 555, run as nobody) exits 3 and stays unchanged" {
	command -v runuser >/dev/null || skip "runuser is not installed"
	ro_setup
	chown nobody "$db"
	chmod 555 "$NOBODY_DIR"
	ro_refused runuser -u nobody -- "$(type -P mig-upgrade)" -d "$(sqlite_url "$db")" -m "$NOBODY_DIR/m"
}

@test "an immutable SQLite file (chattr +i, as root) exits 3 and stays unchanged" {
	ro_setup
	chattr +i "$db" 2>/dev/null || skip "chattr +i is not supported on $(df --output=fstype "$db" | tail -1)"
	RO_FILE=$db
	ro_refused mig-upgrade -d "$(sqlite_url "$db")" -m "$NOBODY_DIR/m"
}

@test "a SQLite file on a read-only bind mount exits 3 and stays unchanged" {
	ro_setup
	if ! mount --bind "$NOBODY_DIR" "$NOBODY_DIR" 2>/dev/null; then
		skip "cannot bind-mount here (needs root and CAP_SYS_ADMIN)"
	fi
	MOUNTED=$NOBODY_DIR
	mount -o remount,bind,ro "$NOBODY_DIR"
	ro_refused mig-upgrade -d "$(sqlite_url "$db")" -m "$NOBODY_DIR/m"
}
