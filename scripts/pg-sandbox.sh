#!/usr/bin/env bash
# pg-sandbox.sh: a throwaway PostgreSQL cluster for tests and benchmarks.
#
#   pg-sandbox.sh start DIR          initdb + start; prints the path of DIR/env
#   pg-sandbox.sh stop DIR           stop the server (if running) and remove DIR
#   pg-sandbox.sh createdb DIR NAME  create database NAME; prints its URL
#
# The cluster lives in DIR/data, listens on a unix socket in DIR and on
# 127.0.0.1 at a free port, and logs to DIR/log. Superuser "mig": trusted on the
# socket, password (MIG_PG_PASSWORD, default mig-test-pw) over TCP. Durability
# is switched off for speed. Under root the server runs as the postgres user.
# DIR/env holds `export` lines: MIG_PG_HOST MIG_PG_PORT MIG_PG_USER
# MIG_PG_PASSWORD MIG_PG_BINDIR MIG_PG_URL_BASE (postgresql://mig:PW@127.0.0.1:PORT).
set -euo pipefail

prog=pg-sandbox
marker=.mig-pg-sandbox

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	echo "usage: $prog start DIR | stop DIR | createdb DIR NAME" >&2
	exit 2
}

# Run a command as the cluster owner: postgres when we are root, else ourselves.
as_owner() {
	if ((EUID != 0)); then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u postgres -- "$@"
	else
		su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
	fi
}

# Directory of initdb/pg_ctl/postgres: the highest /usr/lib/postgresql/N/bin,
# else pg_config --bindir.
find_bindir() {
	local d best=''
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
		[[ -x $d/initdb ]] && best=$d
	done
	if [[ -z $best ]] && command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null || true)
		[[ -n $d && -x $d/initdb ]] && best=$d
	fi
	[[ -n $best ]] || die "no PostgreSQL server binaries (initdb) found; install the postgresql package"
	echo "$best"
}

# Percent-encode $1 for use inside a URL.
urlencode() {
	local LC_ALL=C s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	echo "$out"
}

# Succeeds when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
	(: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
	local port i
	for ((i = 0; i < 100; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		port_in_use "$port" || {
			echo "$port"
			return
		}
	done
	die "no free TCP port found in 20000-60000"
}

fail_with_log() {
	echo "$prog: $1; last lines of $2:" >&2
	tail -n 20 "$2" >&2 2>/dev/null || true
	exit 1
}

cmd_start() {
	local dir=$1 bindir password port log attempt offset
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	[[ -e $dir/data ]] && die "$dir/data already exists; stop the old sandbox first"
	: >"$dir/$marker"
	log=$dir/log
	bindir=$(find_bindir)
	password=${MIG_PG_PASSWORD:-mig-test-pw}
	# The socket path must fit sun_path (107 bytes): DIR/.s.PGSQL.NNNNN.
	((${#dir} <= 90)) || die "$dir is too long for a unix socket path; use a short directory such as /tmp/mig-pg.XXXXXX"

	if ((EUID == 0)); then
		id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user to run the server"
		chown postgres: "$dir" "$dir/$marker"
		as_owner test -w "$dir" || die "$dir is not reachable by the postgres user (check the modes of its parents)"
	fi
	chmod 755 "$dir"

	(umask 077 && printf '%s\n' "$password" >"$dir/pwfile")
	if ((EUID == 0)); then chown postgres: "$dir/pwfile"; fi
	if ! as_owner "$bindir/initdb" -D "$dir/data" -U mig --pwfile="$dir/pwfile" \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C \
		--no-sync >"$dir/initdb.log" 2>&1; then
		rm -f "$dir/pwfile"
		fail_with_log "initdb failed" "$dir/initdb.log"
	fi
	rm -f "$dir/pwfile"

	local qdir=${dir//\'/\'\'}
	as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<-CONF

		# pg-sandbox.sh: a throwaway cluster, durability off for speed
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$qdir'
		fsync = off
		full_page_writes = off
		synchronous_commit = off
		max_connections = 100
	CONF

	: >>"$log"
	if ((EUID == 0)); then chown postgres: "$log"; fi
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		offset=$(stat -c %s "$log" 2>/dev/null || echo 0)
		if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$log" -w -t 60 \
			-o "-p $port" start >>"$dir/pg_ctl.log" 2>&1; then
			write_env "$dir" "$port" "$password" "$bindir"
			echo "$dir/env"
			return
		fi
		# Someone took the port between our check and the bind: try another.
		tail -c +"$((offset + 1))" "$log" | grep -q 'Address already in use' || break
		echo "$prog: port $port was taken, retrying (attempt $attempt)" >&2
	done
	fail_with_log "the PostgreSQL server did not start" "$log"
}

write_env() {
	local dir=$1 port=$2 password=$3 bindir=$4 base
	base="postgresql://mig:$(urlencode "$password")@127.0.0.1:$port"
	(
		umask 077
		{
			printf 'export MIG_PG_HOST=%q\n' "$dir"
			printf 'export MIG_PG_PORT=%q\n' "$port"
			printf 'export MIG_PG_USER=mig\n'
			printf 'export MIG_PG_PASSWORD=%q\n' "$password"
			printf 'export MIG_PG_BINDIR=%q\n' "$bindir"
			printf 'export MIG_PG_URL_BASE=%q\n' "$base"
		} >"$dir/env"
	)
}

# Succeeds when PID is a live (not zombie) postgres process.
postmaster_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $stat == *"(postgres) "[^Z]* ]]
}

# The bindir recorded in DIR/env by start, else a fresh search; empty if none.
sandbox_bindir() {
	local MIG_PG_BINDIR=''
	if [[ -f $1/env ]]; then
		# shellcheck source=/dev/null
		. "$1/env"
	fi
	if [[ -x $MIG_PG_BINDIR/pg_ctl ]]; then
		echo "$MIG_PG_BINDIR"
	else
		find_bindir 2>/dev/null || true
	fi
}

cmd_stop() {
	local dir=$1 bindir pid
	[[ -d $dir ]] || return 0
	if [[ ! -e $dir/$marker ]]; then
		# Refuse to rm -rf anything that start did not create (or an empty dir).
		rmdir "$dir" 2>/dev/null && return 0
		die "$dir is not a pg-sandbox directory; not removing it"
	fi
	if [[ -f $dir/data/postmaster.pid ]]; then
		pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
		bindir=$(sandbox_bindir "$dir")
		if [[ -n $bindir ]]; then
			as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
		fi
		# pg_ctl missing or confused: make sure the postmaster is gone anyway.
		if [[ $pid =~ ^[0-9]+$ ]] && postmaster_alive "$pid"; then
			kill -QUIT "$pid" 2>/dev/null || true
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				postmaster_alive "$pid" || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf "$dir"
}

cmd_createdb() {
	local dir=$1 name=$2
	[[ -f $dir/env ]] || die "$dir/env not found; is the sandbox started?"
	# shellcheck source=/dev/null
	. "$dir/env"
	"$MIG_PG_BINDIR/createdb" -h "$MIG_PG_HOST" -p "$MIG_PG_PORT" -U "$MIG_PG_USER" \
		-- "$name" || die "could not create database '$name'"
	echo "$MIG_PG_URL_BASE/$(urlencode "$name")"
}

case ${1:-} in
start) (($# == 2)) || usage; cmd_start "$2" ;;
stop) (($# == 2)) || usage; cmd_stop "$2" ;;
createdb) (($# == 3)) || usage; cmd_createdb "$2" "$3" ;;
*) usage ;;
esac
