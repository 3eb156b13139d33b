#!/usr/bin/env bats
# mig-status on real SQLite files and the sandbox PostgreSQL server.

load test_helper/common

@test "mig-status reports an empty database with the whole chain pending" {
	db=$BATS_TEST_TMPDIR/empty.db
	sqlite_sql "$db" "PRAGMA user_version = 1"
	run --separate-stderr mig-status -d "$(sqlite_url "$db")"
	assert_success
	assert_line "state:    empty (no tables; mig-upgrade creates the schema)"
	assert_line "current:  base"
	assert_line "heads:    b07a366647c3"
	assert_line "pending:   b07a366647c3  baseline schema"
}

@test "mig-status --check is 1 behind head, 0 at head, on PostgreSQL" {
	require_pg
	url=$(pg_new_db)
	run --separate-stderr mig-status --check -q -d "$url"
	assert_failure 1
	assert_output ""
	mig-upgrade -q -d "$url"
	run --separate-stderr mig-status --check -d "$url"
	assert_success
	assert_line "state:    current (at head)"
	assert_line "current:  b07a366647c3"
}

@test "mig-status --check is 3 when the database cannot be reached" {
	run --separate-stderr mig-status --check -d "postgresql://mig:pw@127.0.0.1:1/x"
	assert_failure 3
	[[ $stderr == *"cannot connect"* ]]
	run --separate-stderr mig-status --check -d "sqlite:///$BATS_TEST_TMPDIR/missing.db"
	assert_failure 3
	[[ $stderr == *"no such database file"* ]]
	[[ ! -e $BATS_TEST_TMPDIR/missing.db ]]
}

@test "without a loadable libpq a PostgreSQL URL is exit 3 naming libpq.so.5 and libpq5; SQLite needs no libpq" {
	# a libpq.so.5 that the loader finds first (LD_LIBRARY_PATH) but cannot load
	mkdir "$BATS_TEST_TMPDIR/lib"
	echo 'not a shared library' >"$BATS_TEST_TMPDIR/lib/libpq.so.5"
	export LD_LIBRARY_PATH=$BATS_TEST_TMPDIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	run --separate-stderr mig-status --check -m "$REPO/migrations" \
		-d "postgresql://app:s3cret-pw@127.0.0.1:1/app"
	assert_failure 3
	assert_equal "$output" ""
	[[ $stderr == *"cannot load libpq.so.5, which PostgreSQL URLs need: "*"/lib/libpq.so.5: "* ]]
	[[ $stderr == *"hint: install libpq5"* ]]
	[[ $stderr != *s3cret-pw* ]]
	# a library without libpq's functions in its place: the missing one is
	# named.  ldd reads bin/, the build itself: on PATH may be a wrapper script.
	cp "$(ldd "$REPO/bin/mig-status" | awk '$1 ~ /^libsqlite3/ { print $3 }')" \
		"$BATS_TEST_TMPDIR/lib/libpq.so.5"
	run --separate-stderr mig-upgrade -m "$REPO/migrations" \
		-d "postgresql://app:s3cret-pw@127.0.0.1:1/app"
	assert_failure 3
	[[ $stderr == *"cannot load libpq.so.5, which PostgreSQL URLs need: "*"undefined symbol: PQ"* ]]
	[[ $stderr == *"hint: install libpq5"* ]]
	# SQLite runs do not notice
	run mig-upgrade -m "$REPO/migrations" -q -d "sqlite:///$BATS_TEST_TMPDIR/app.db"
	assert_success
	run mig-status --check -m "$REPO/migrations" -d "sqlite:///$BATS_TEST_TMPDIR/app.db"
	assert_success
}

@test "mig-status names a legacy database and the stamp that fixes it, without changing it" {
	db=$BATS_TEST_TMPDIR/legacy.db
	make_legacy_db "$db"
	before=$(db_fingerprint "$db")
	run --separate-stderr mig-status -d "$(sqlite_url "$db")"
	assert_success
	assert_line --partial "state:    legacy (23 tables, no version rows; stamp it with mig-stamp b07a366647c3"
	run mig-status --check -q -d "$(sqlite_url "$db")"
	assert_failure 1
	assert_equal "$(db_fingerprint "$db")" "$before"
}

@test "mig-status names a recorded revision that the folder no longer has" {
	require_pg
	url=$(pg_new_db)
	mig-upgrade -q -d "$url"
	pg_sql "$url" "UPDATE alembic_version SET version_num = 'p7_comprehensive'"
	run --separate-stderr mig-status --format json -d "$url"
	assert_success
	run jq -r '[.state, .current[0], .unknown[0], .tables] | @tsv' <<<"$output"
	assert_output "$(printf 'unknown-revision\tp7_comprehensive\tp7_comprehensive\t23')"
}

@test "mig-status --format json describes a current database" {
	db=$BATS_TEST_TMPDIR/json.db
	mig-upgrade -q -d "$(sqlite_url "$db")"
	run --separate-stderr mig-status --format json -d "$(sqlite_url "$db")"
	assert_success
	run jq -c '{state, current, heads, pending, version_table}' <<<"$output"
	assert_output '{"state":"current","current":["b07a366647c3"],"heads":["b07a366647c3"],"pending":[],"version_table":true}'
}

@test "mig-status writes the revision to GITHUB_OUTPUT under GitHub Actions" {
	db=$BATS_TEST_TMPDIR/gh.db
	mig-upgrade -q -d "$(sqlite_url "$db")"
	out=$BATS_TEST_TMPDIR/github_output
	GITHUB_ACTIONS=true GITHUB_OUTPUT=$out run mig-status -q -d "$(sqlite_url "$db")"
	assert_success
	assert_equal "$(cat "$out")" "$(printf 'revision=b07a366647c3\nstate=current\nheads=b07a366647c3\npending_count=0')"
}

@test "mig-status with a missing migrations folder exits 2 and says which" {
	run --separate-stderr mig-status -d sqlite:// -m "$BATS_TEST_TMPDIR/nowhere"
	assert_failure 2
	[[ $stderr == *"$BATS_TEST_TMPDIR/nowhere/versions: No such file or directory"* ]]
}

@test "a malformed migration header is bad input: exit 2 with file and line" {
	make_migrations "$BATS_TEST_TMPDIR/m"
	printf -- '-- revision: abc\n-- down_revison: none\n\n-- +upgrade\nSELECT 1;\n' \
		>"$BATS_TEST_TMPDIR/m/versions/abc_x.sql"
	run --separate-stderr mig-status -d sqlite:// -m "$BATS_TEST_TMPDIR/m"
	assert_failure 2
	[[ $stderr == *"versions/abc_x.sql:2: unknown header key 'down_revison'"* ]]
}

@test "a connection that times out names the connect_timeout in force and where it came from" {
	# a server that accepts the connection and never answers
	local port_file=$BATS_TEST_TMPDIR/port
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(30)
' "$port_file" &
	local listener=$!
	for _ in $(seq 100); do [[ -s $port_file ]] && break; sleep 0.1; done
	[[ -s $port_file ]] || fail "the silent server did not start"
	local url="postgresql://nobody@127.0.0.1:$(cat "$port_file")/db?connect_timeout=1"
	run --separate-stderr mig-status -d "$url"
	assert_failure 3
	[[ $stderr == *"timeout expired (connect_timeout=1 s, from the URL)"* ]] || fail "$stderr"
	run --separate-stderr mig-status -d "$url" --wait 1
	assert_failure 3
	[[ $stderr == *"(connect_timeout=1 s, from the URL), after waiting "*" s for the server (--wait 1)"* ]] || fail "$stderr"
	kill "$listener"
}

# counting_proxy PORT DELAY_S COUNT_FILE: from DELAY_S seconds on, listens on
# 127.0.0.1:PORT and passes each connection on to the sandbox server,
# writing how many it accepted to COUNT_FILE (before then the port is
# closed: connection refused, as while a server starts).  Sets PROXY_PID.
counting_proxy() {
	python3 "$REPO/test/test_helper/proxy.py" "tcp:$1" "tcp:$MIG_PG_PORT" \
		--delay "$2" --count-file "$3" 3>&- &
	PROXY_PID=$!
}

teardown() {
	[[ -z ${PROXY_PID:-} ]] || kill "$PROXY_PID" 2>/dev/null || true
}

# unused_port: a port on 127.0.0.1 that nothing listens on now.
unused_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "PostgreSQL: mig-status --wait on a server that is up connects once and reports what it reports without --wait" {
	require_pg
	local url port count=$BATS_TEST_TMPDIR/count
	url=$(pg_new_db)
	mig-upgrade -q -d "$url"
	port=$(unused_port)
	counting_proxy "$port" 0 "$count"
	for _ in $(seq 100); do [[ -s $count ]] && break; sleep 0.05; done
	local via=${url/:$MIG_PG_PORT\//:$port/}
	[[ $via != "$url" ]] || fail "the URL has no port to replace: $url"
	run --separate-stderr mig-status -d "$via"
	assert_success
	local without=$output
	assert_equal "$(cat "$count")" "1"
	run --separate-stderr mig-status --wait 30 -d "$via"
	assert_success
	assert_equal "$output" "$without"
	assert_equal "$stderr" ""
	# one connection more, not two: no ping before the real connection
	assert_equal "$(cat "$count")" "2"
	run --separate-stderr mig-status --wait 30 --check -q -d "$via"
	assert_success
	assert_equal "$(cat "$count")" "3"
}

@test "PostgreSQL: mig-status --wait on a server that comes up after a second waits for it, connects and reports" {
	require_pg
	local url port count=$BATS_TEST_TMPDIR/count
	url=$(pg_new_db)
	mig-upgrade -q -d "$url"
	port=$(unused_port)
	counting_proxy "$port" 1.5 "$count"
	local via=${url/:$MIG_PG_PORT\//:$port/}
	run --separate-stderr mig-status --wait 30 --check -d "$via"
	assert_success
	assert_line "state:    current (at head)"
	assert_equal "$stderr" ""
	kill "$PROXY_PID"
	# without --wait the same start is a connection error
	port=$(unused_port)
	counting_proxy "$port" 1.5 "$count.2"
	via=${url/:$MIG_PG_PORT\//:$port/}
	run --separate-stderr mig-status --check -d "$via"
	assert_failure 3
	[[ $stderr == *"Connection refused"* ]] || fail "$stderr"
}

@test "PostgreSQL: mig-status --wait with a wrong password fails at once (exit 3) after one connection: the server that asked for it is up" {
	require_pg
	local url port count=$BATS_TEST_TMPDIR/count
	url=$(pg_new_db)
	port=$(unused_port)
	counting_proxy "$port" 0 "$count"
	for _ in $(seq 100); do [[ -s $count ]] && break; sleep 0.05; done
	local via=${url/:$MIG_PG_PORT\//:$port/}
	via=${via/:$MIG_PG_PASSWORD@/:Wrong-Secret-5@}
	[[ $via == *Wrong-Secret-5@* ]] || fail "the URL has no password to replace"
	run --separate-stderr timeout 20 mig-status --wait 30 -d "$via"
	assert_failure 3
	[[ $stderr == *'password authentication failed for user "mig"'* ]] || fail "$stderr"
	[[ $stderr != *Wrong-Secret-5* ]] || fail "the password was printed: $stderr"
	assert_equal "$(cat "$count")" "1"
}
