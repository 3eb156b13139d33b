#!/usr/bin/env bash
# install-deps.sh: install the Debian packages that building and testing mig need.
#
# Only missing packages are installed. When everything is present it prints
# nothing, never calls apt and returns at once, so it is cheap to run before
# every `make test`. Works on a bare Debian 12 system (no make, no compiler).
set -euo pipefail

packages=(
	# build: compiler, make, pkg-config and the client libraries libmig links
	build-essential pkg-config libpq-dev libsqlite3-dev libyaml-dev
	# PostgreSQL's parser, to split transactional: false sections into statements
	# (loaded with dlopen like libpq); protobuf-c's header for its token stream
	libpg-query-dev libprotobuf-c-dev
	# databases the tests run against: sqlite3 CLI, a PostgreSQL server to sandbox
	sqlite3 postgresql postgresql-contrib
	# test framework; GNU parallel lets bats run two tests at a time
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
)

# Needed as commands, whoever provides them: a machine may have Node.js from
# another source, whose nodejs package conflicts with Debian's npm.
declare -A by_command=([node]=nodejs [npm]=npm)

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

echo "install-deps: installing missing packages: ${missing[*]}"

sudo=()
if ((EUID != 0)); then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "install-deps: not root and sudo is not available; as root, run:" >&2
		echo "  apt-get update && apt-get install --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
fi

if ! "${sudo[@]}" apt-get update -qq; then
	echo "install-deps: apt-get update failed" >&2
	exit 1
fi
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
	echo "install-deps: apt-get install failed for: ${missing[*]}" >&2
	exit 1
fi
