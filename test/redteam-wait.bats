#!/usr/bin/env bats
# Red team of mig-status --wait (issue 19): it connects first and pings
# only after a failure.  Promise: it waits the whole --wait for a server
# that is not up yet, never prints a password, and a wrong password fails
# at once (the server that asked for it is up).

load test_helper/common
load test_helper/poolers

setup() {
	require_pg
}

teardown() {
	[[ -z ${PROXY_PID:-} ]] || kill "$PROXY_PID" 2>/dev/null || true
	pgbouncer_stop
	[[ -z ${FAKE_DIR:-} ]] || rm -rf "$FAKE_DIR"
}

# late_socket DELAY_S: from DELAY_S seconds on, a unix socket in FAKE_DIR
# (port FAKE_PORT) that passes each connection on to the sandbox's socket:
# a PostgreSQL that comes up late, for PgBouncer to reach.  Sets PROXY_PID.
late_socket() {
	FAKE_DIR=$(_socket_dir mig-late)
	FAKE_PORT=$(_free_socket_port "$FAKE_DIR")
	python3 "$REPO/test/test_helper/proxy.py" "unix:$FAKE_DIR/.s.PGSQL.$FAKE_PORT" \
		"unix:$MIG_PG_HOST/.s.PGSQL.$MIG_PG_PORT" --delay "$1" 3>&- &
	PROXY_PID=$!
}

@test "through PgBouncer, a PostgreSQL that comes up 3 s later: --wait 60 waits for it and reports" {
	command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]] || skip "needs PgBouncer"
	local url
	url=$(pg_new_db)
	mig-upgrade -q -d "$url"
	late_socket 3
	MIG_PG_HOST=$FAKE_DIR MIG_PG_PORT=$FAKE_PORT pgbouncer_start
	local via
	via=$(pgbouncer_url "$url")
	run --separate-stderr timeout 100 mig-status --wait 60 --check -d "$via"
	assert_success
	assert_line "state:    current (at head)"
}

# starting_up PORT SECONDS: on 127.0.0.1:PORT, a server that answers every
# connection for SECONDS with PostgreSQL's FATAL 57P03 "the database system
# is starting up" (or, with SHUTTING=1, "is shutting down"), then passes
# connections on to the sandbox.  Sets PROXY_PID.
starting_up() {
	python3 "$REPO/test/test_helper/proxy.py" "tcp:$1" "tcp:$MIG_PG_PORT" --refuse-for "$2" \
		--refuse-as "${SHUTTING:+shutting down}${SHUTTING:-starting up}" 3>&- &
	PROXY_PID=$!
	for _ in $(seq 100); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$1" 2>/dev/null && return
		sleep 0.05
	done
}

unused_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "a server that says 'the database system is starting up' for 2 s: --wait 30 waits and reports; without --wait it is exit 3 with that message" {
	local url port via
	url=$(pg_new_db)
	mig-upgrade -q -d "$url"
	port=$(unused_port)
	starting_up "$port" 2
	via=${url/:$MIG_PG_PORT\//:$port/}
	run --separate-stderr mig-status --check -d "$via"
	assert_failure 3
	[[ $stderr == *"the database system is starting up"* ]] || fail "$stderr"
	[[ $stderr != *"$MIG_PG_PASSWORD"* ]] || fail "the password was printed: $stderr"
	run --separate-stderr mig-status --wait 30 --check -d "$via"
	assert_success
	assert_line "state:    current (at head)"
}

@test "a server that says 'the database system is shutting down' for the whole --wait 2: exit 3 after waiting, and the message says so" {
	local url port via
	url=$(pg_new_db)
	port=$(unused_port)
	SHUTTING=1 starting_up "$port" 600
	via=${url/:$MIG_PG_PORT\//:$port/}
	run --separate-stderr mig-status --wait 2 -d "$via"
	assert_failure 3
	[[ $stderr == *"the database system is shutting down"*", after waiting 2."*" s for the server (--wait 2)"* ]] || fail "$stderr"
	[[ $stderr != *"$MIG_PG_PASSWORD"* ]] || fail "the password was printed: $stderr"
}

@test "--wait 0 is no wait: a server that is starting up is exit 3 at once, without 'after waiting'" {
	local url port via
	url=$(pg_new_db)
	port=$(unused_port)
	starting_up "$port" 600
	via=${url/:$MIG_PG_PORT\//:$port/}
	run --separate-stderr mig-status --wait 0 -d "$via"
	assert_failure 3
	[[ $stderr == *"the database system is starting up"* && $stderr != *"after waiting"* ]] || fail "$stderr"
}

# no_password URL: URL without its password.
no_password() {
	echo "${1/:$MIG_PG_PASSWORD@/@}"
}

@test "a wrong password from PGPASSWORD or from a pgpass file fails at once under --wait 30, and is never printed" {
	local url bare
	url=$(pg_new_db)
	bare=$(no_password "$url")
	[[ $bare != "$url" ]] || fail "the URL has no password to remove: $url"
	run --separate-stderr env PGPASSWORD=Wrong-Secret-7 timeout 20 mig-status --wait 30 -d "$bare"
	assert_failure 3
	[[ $stderr == *'password authentication failed for user "mig"'* && $stderr != *"after waiting"* ]] || fail "$stderr"
	[[ $stderr != *Wrong-Secret-7* && $output != *Wrong-Secret-7* ]] || fail "the password was printed: $stderr"
	printf '*:*:*:*:Wrong-Secret-8\n' >"$BATS_TEST_TMPDIR/pgpass"
	chmod 600 "$BATS_TEST_TMPDIR/pgpass"
	run --separate-stderr env -u PGPASSWORD PGPASSFILE="$BATS_TEST_TMPDIR/pgpass" timeout 20 mig-status --wait 30 -d "$bare"
	assert_failure 3
	[[ $stderr == *'password authentication failed for user "mig"'* && $stderr != *"after waiting"* ]] || fail "$stderr"
	[[ $stderr != *Wrong-Secret-8* && $output != *Wrong-Secret-8* ]] || fail "the password was printed: $stderr"
	# the right one from the pgpass file connects, and is not printed either
	printf '*:*:*:*:%s\n' "$MIG_PG_PASSWORD" >"$BATS_TEST_TMPDIR/pgpass"
	run --separate-stderr env -u PGPASSWORD PGPASSFILE="$BATS_TEST_TMPDIR/pgpass" mig-status --wait 30 -d "$bare"
	assert_success
	[[ $output != *"$MIG_PG_PASSWORD"* && $stderr != *"$MIG_PG_PASSWORD"* ]] || fail "printed"
}
