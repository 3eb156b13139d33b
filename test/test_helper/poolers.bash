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
# own in MIG_SB_DIR.  Returns once it accepts connections.  The checkpoint
# is fast: the default spreads it over minutes on a busy primary.
standby_start() {
	MIG_SB_DIR=$(_socket_dir mig-sb) || return
	MIG_SB_PORT=$(_free_socket_port "$MIG_SB_DIR") || return
	_as_pg_owner "$MIG_PG_BINDIR/pg_basebackup" -h "$MIG_PG_HOST" -p "$MIG_PG_PORT" \
		-U "$MIG_PG_USER" -D "$MIG_SB_DIR/data" -R -X stream --no-sync --checkpoint=fast \
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

# --- pg_auto_failover --------------------------------------------------------

# formation_missing: why a pg_auto_failover formation cannot be made here
# (empty when it can).
formation_missing() {
	command -v pg_autoctl >/dev/null 2>&1 ||
		{ echo "needs pg_autoctl (Debian package pg-auto-failover-cli)"; return; }
	local bindir=${MIG_PG_BINDIR:-}
	[[ -n $bindir ]] || { echo "needs the PostgreSQL sandbox's server binaries"; return; }
	local libdir=${bindir%/bin}/lib
	compgen -G "$libdir/pgautofailover*.so" >/dev/null ||
		echo "needs the pgautofailover extension in $libdir (Debian package postgresql-${bindir//[^0-9]/}-auto-failover)"
}

# _af CMD...: pg_autoctl and friends as the formation's owner, with their
# configuration and state kept in MIG_AF_DIR, never in a home directory.
_af() {
	local env=(env -i HOME="$MIG_AF_DIR" PATH="$MIG_PG_BINDIR:/usr/bin:/bin"
		XDG_CONFIG_HOME="$MIG_AF_DIR/config" XDG_DATA_HOME="$MIG_AF_DIR/share"
		XDG_RUNTIME_DIR="$MIG_AF_DIR/run")
	if ((EUID != 0)); then
		"${env[@]}" "$@"
	else
		runuser -u postgres -- "${env[@]}" "$@"
	fi
}

# _af_service NAME CMD...: CMD as _af runs it, in the background in a session
# of its own (formation_stop ends that session), its pid in MIG_AF_DIR/NAME.pid.
_af_service() {
	local name=$1
	shift
	setsid bash -c "$(declare -f _af); $(printf '%q ' MIG_AF_DIR="$MIG_AF_DIR" MIG_PG_BINDIR="$MIG_PG_BINDIR"); _af $(printf '%q ' "$@")" \
		</dev/null >"$MIG_AF_DIR/$name.log" 2>&1 &
	echo $! >"$MIG_AF_DIR/$name.pid"
}

# _free_tcp_port: a port nothing listens on at 127.0.0.1.
_free_tcp_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		(: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null || {
			echo "$port"
			return
		}
	done
	return 1
}

# formation_start: a pg_auto_failover monitor and two data nodes (a primary
# and its synchronous secondary) in MIG_AF_DIR, on localhost ports
# MIG_AF_PORT1 and MIG_AF_PORT2 with trust authentication from localhost.
# Returns once the monitor reports one primary and one secondary.
formation_start() {
	MIG_AF_DIR=$(_socket_dir mig-af) || return
	MIG_AF_PORT0=$(_free_tcp_port) && MIG_AF_PORT1=$(_free_tcp_port) &&
		MIG_AF_PORT2=$(_free_tcp_port) || return
	[[ $MIG_AF_PORT0 != "$MIG_AF_PORT1" && $MIG_AF_PORT1 != "$MIG_AF_PORT2" &&
		$MIG_AF_PORT0 != "$MIG_AF_PORT2" ]] || return
	export MIG_AF_DIR MIG_AF_PORT0 MIG_AF_PORT1 MIG_AF_PORT2
	_af pg_autoctl create monitor --pgdata "$MIG_AF_DIR/monitor" --pgport "$MIG_AF_PORT0" \
		--hostname localhost --auth trust --no-ssl >"$MIG_AF_DIR/monitor-create.log" 2>&1 || {
		tail -n 20 "$MIG_AF_DIR/monitor-create.log" >&2
		return 1
	}
	_af pg_autoctl config set --pgdata "$MIG_AF_DIR/monitor" postgresql.listen_addresses localhost \
		>>"$MIG_AF_DIR/monitor-create.log" 2>&1 || true
	# Each service runs in a session of its own, so formation_stop ends it
	# and all its children by that session, not by name.
	_af_service monitor pg_autoctl run --pgdata "$MIG_AF_DIR/monitor"
	local monitor i
	for _ in $(seq 300); do
		monitor=$(_af pg_autoctl show uri --pgdata "$MIG_AF_DIR/monitor" --formation monitor 2>/dev/null) &&
			_af "$MIG_PG_BINDIR/psql" -X -q -At -d "$monitor" -c 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.1
	done
	for i in 1 2; do
		local port_var=MIG_AF_PORT$i
		_af_service "node$i" pg_autoctl create postgres --pgdata "$MIG_AF_DIR/node$i" \
			--pgport "${!port_var}" --hostname localhost --listen localhost \
			--name "node$i" --auth trust --no-ssl --monitor "$monitor" --run
		formation_wait "node$i up" formation_has_states "$i" || return
	done
}

# formation_has_states N: the monitor reports N nodes, each in the state it
# was assigned: "single" for one, one primary and secondaries for more.
formation_has_states() {
	local states want=single
	(($1 > 1)) && want="primary $(($1 - 1))"
	states=$(_af "$MIG_PG_BINDIR/psql" -X -q -At -d "$(formation_monitor_uri)" -c \
		"SELECT CASE WHEN count(*) = 1 THEN min(reportedstate::text)
		        WHEN count(*) FILTER (WHERE reportedstate = 'primary') = 1
		        THEN 'primary ' || count(*) FILTER (WHERE reportedstate = 'secondary') END
		 FROM pgautofailover.node HAVING bool_and(reportedstate = goalstate)" 2>/dev/null) || return 1
	[[ $states == "$want" ]]
}

# formation_primary: the number (1 or 2) of the data node that is primary.
formation_primary() {
	_af "$MIG_PG_BINDIR/psql" -X -q -At -d "$(formation_monitor_uri)" -c \
		"SELECT substr(nodename, 5) FROM pgautofailover.node WHERE reportedstate = 'primary'"
}

formation_monitor_uri() {
	_af pg_autoctl show uri --pgdata "$MIG_AF_DIR/monitor" --formation monitor
}

# formation_wait WHAT CMD...: run CMD every 0.2 s until it succeeds; fail
# naming WHAT after 180 s (pg_auto_failover's own timeouts are 20-30 s).
formation_wait() {
	local what=$1
	shift
	for _ in $(seq 900); do
		"$@" && return 0
		sleep 0.2
	done
	echo "waited 180 s, and still not: $what" >&2
	_af pg_autoctl show state --pgdata "$MIG_AF_DIR/monitor" >&2 || true
	return 1
}

# formation_stop: stop the nodes and the monitor and remove MIG_AF_DIR.
formation_stop() {
	[[ -n ${MIG_AF_DIR:-} && -d $MIG_AF_DIR ]] || return 0
	local n pid
	for n in node2 node1 monitor; do
		[[ -d $MIG_AF_DIR/$n ]] && _af pg_autoctl stop --pgdata "$MIG_AF_DIR/$n" >/dev/null 2>&1
	done
	for n in node2 node1 monitor; do
		pid=$(cat "$MIG_AF_DIR/$n.pid" 2>/dev/null || true)
		[[ $pid =~ ^[0-9]+$ ]] || continue
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
	done
	for n in node2 node1 monitor; do
		[[ -f $MIG_AF_DIR/$n/postmaster.pid ]] &&
			_af "$MIG_PG_BINDIR/pg_ctl" -D "$MIG_AF_DIR/$n" -m immediate -w stop >/dev/null 2>&1
	done
	rm -rf "$MIG_AF_DIR"
}

# node_sql N DB SQL: run SQL on data node N's database DB; print rows (a|b).
node_sql() {
	local port_var=MIG_AF_PORT$1
	"$MIG_PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h localhost -p "${!port_var}" \
		-U postgres -d "$2" -f - <<<"$3"
}
