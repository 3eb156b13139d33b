# test/test_helper/poolers.bash: real servers in front of and beside the
# harness's PostgreSQL sandbox, for the suites about poolers and standbys.
# Load it after test_helper/common.
#
#   pgbouncer_start / pgbouncer_stop   PgBouncer in transaction pooling mode
#                                      on a unix socket in a temp dir
#   pgbouncer_url URL                  the same database, reached through it
#   standby_start / standby_stop       a streaming standby of the sandbox
#                                      (pg_basebackup -R), on its own socket
#   standby_url URL                    the same database, on the standby
#
# They are meant for setup_file/teardown_file and export what the tests
# need (MIG_PGB_DIR, MIG_PGB_PORT; MIG_SB_DIR, MIG_SB_PORT).  Under root
# the servers run as the postgres user, as the sandbox does; PgBouncer
# refuses to run as root anyway.
# shellcheck shell=bash

# _as_pg_owner CMD...: run CMD as the sandbox's owner.
_as_pg_owner() {
	if ((EUID != 0)); then
		"$@"
	else
		runuser -u postgres -- "$@"
	fi
}

# _free_socket_port DIR: a port number whose socket file DIR/.s.PGSQL.N is unused.
_free_socket_port() {
	local port
	for _ in $(seq 50); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		[[ -e $1/.s.PGSQL.$port ]] || {
			echo "$port"
			return
		}
	done
	return 1
}

# _socket_dir PREFIX: a fresh short directory for a unix socket, writable by
# the server's user (sun_path holds 107 bytes, so not under BATS_TMPDIR).
_socket_dir() {
	local dir
	dir=$(mktemp -d "/tmp/$1.XXXXXX") || return
	chmod 755 "$dir"
	if ((EUID == 0)); then chown postgres: "$dir"; fi
	echo "$dir"
}

# pgbouncer_start: PgBouncer in transaction pooling mode in front of the
# sandbox, listening only on a unix socket in MIG_PGB_DIR.  Every database
# name maps to the sandbox database of the same name.
pgbouncer_start() {
	local bin=${MIG_PGBOUNCER:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}
	[[ -x $bin ]] || return 1
	MIG_PGB_DIR=$(_socket_dir mig-pgb) || return
	MIG_PGB_PORT=$(_free_socket_port "$MIG_PGB_DIR") || return
	printf '"%s" ""\n' "$MIG_PG_USER" >"$MIG_PGB_DIR/users.txt"
	cat >"$MIG_PGB_DIR/pgbouncer.ini" <<-INI
		[databases]
		* = host=$MIG_PG_HOST port=$MIG_PG_PORT user=$MIG_PG_USER

		[pgbouncer]
		pool_mode = transaction
		listen_addr =
		listen_port = $MIG_PGB_PORT
		unix_socket_dir = $MIG_PGB_DIR
		auth_type = trust
		auth_file = $MIG_PGB_DIR/users.txt
		default_pool_size = 20
		max_client_conn = 200
		logfile = $MIG_PGB_DIR/pgbouncer.log
		pidfile = $MIG_PGB_DIR/pgbouncer.pid
	INI
	if ((EUID == 0)); then chown -R postgres: "$MIG_PGB_DIR"; fi
	_as_pg_owner "$bin" -d "$MIG_PGB_DIR/pgbouncer.ini" || {
		cat "$MIG_PGB_DIR/pgbouncer.log" >&2 2>/dev/null
		return 1
	}
	for _ in $(seq 100); do
		[[ -S $MIG_PGB_DIR/.s.PGSQL.$MIG_PGB_PORT ]] && break
		sleep 0.1
	done
	[[ -S $MIG_PGB_DIR/.s.PGSQL.$MIG_PGB_PORT ]] || return 1
	export MIG_PGB_DIR MIG_PGB_PORT
}

# pgbouncer_stop: end the PgBouncer that pgbouncer_start started (its pid
# file names it) and remove its directory.
pgbouncer_stop() {
	[[ -n ${MIG_PGB_DIR:-} && -d $MIG_PGB_DIR ]] || return 0
	local pid
	pid=$(cat "$MIG_PGB_DIR/pgbouncer.pid" 2>/dev/null || true)
	if [[ $pid =~ ^[0-9]+$ ]]; then
		kill -INT "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$MIG_PGB_DIR"
}

# pgbouncer_url URL: the sandbox database of URL, reached through PgBouncer.
pgbouncer_url() {
	echo "postgresql://$MIG_PG_USER@/$(_mig_pg_dbname "$1")?host=$MIG_PGB_DIR&port=$MIG_PGB_PORT"
}

# standby_start: a hot standby of the sandbox, made with pg_basebackup -R
# (streaming replication over the sandbox's unix socket), on a socket of its
# own in MIG_SB_DIR.  Returns once it accepts connections.
standby_start() {
	MIG_SB_DIR=$(_socket_dir mig-sb) || return
	MIG_SB_PORT=$(_free_socket_port "$MIG_SB_DIR") || return
	_as_pg_owner "$MIG_PG_BINDIR/pg_basebackup" -h "$MIG_PG_HOST" -p "$MIG_PG_PORT" \
		-U "$MIG_PG_USER" -D "$MIG_SB_DIR/data" -R -X stream --no-sync \
		>"$MIG_SB_DIR/basebackup.log" 2>&1 || {
		cat "$MIG_SB_DIR/basebackup.log" >&2
		return 1
	}
	_as_pg_owner "$MIG_PG_BINDIR/pg_ctl" -D "$MIG_SB_DIR/data" -l "$MIG_SB_DIR/log" -w -t 60 \
		-o "-p $MIG_SB_PORT -k $MIG_SB_DIR -c listen_addresses=''" start \
		>"$MIG_SB_DIR/pg_ctl.log" 2>&1 || {
		tail -n 20 "$MIG_SB_DIR/log" >&2
		return 1
	}
	export MIG_SB_DIR MIG_SB_PORT
}

# standby_stop: stop the standby and remove its directory.
standby_stop() {
	[[ -n ${MIG_SB_DIR:-} && -d $MIG_SB_DIR ]] || return 0
	if [[ -f $MIG_SB_DIR/data/postmaster.pid ]]; then
		_as_pg_owner "$MIG_PG_BINDIR/pg_ctl" -D "$MIG_SB_DIR/data" -m immediate -w stop \
			>/dev/null 2>&1 || true
	fi
	rm -rf "$MIG_SB_DIR"
}

# standby_url URL: the sandbox database of URL, read from the standby.
standby_url() {
	echo "postgresql://$MIG_PG_USER@/$(_mig_pg_dbname "$1")?host=$MIG_SB_DIR&port=$MIG_SB_PORT"
}

# standby_sql URL SQL: run SQL on the standby's copy of URL's database.
standby_sql() {
	"$MIG_PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$MIG_SB_DIR" -p "$MIG_SB_PORT" \
		-U "$MIG_PG_USER" -d "$(_mig_pg_dbname "$1")" -f - <<<"$2"
}

# standby_caught_up URL: the standby has replayed all the primary has written.
standby_caught_up() {
	local lsn
	lsn=$(pg_sql "$1" "SELECT pg_current_wal_lsn()")
	[[ $(standby_sql "$1" "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn") == t ]]
}
