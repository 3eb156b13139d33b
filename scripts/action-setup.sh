#!/usr/bin/env bash
# action-setup.sh: the set-up steps of the GitHub Actions in action.yml and
# verify/action.yml, which build mig from the action's own source.
#
#   action-setup.sh key      print key=KEY for $GITHUB_OUTPUT: the cache key of
#                            the build, a hash of the sources that make it (the
#                            same commit gives the same key)
#   action-setup.sh build    put the programs in $MIG_PREFIX/bin on PATH
#                            ($GITHUB_PATH) and write version=V to $GITHUB_OUTPUT
#
# build reuses $MIG_PREFIX when it holds a build of the same key (restored by
# actions/cache, or made by an earlier mig action of the same job); then only
# the runtime libraries are installed. Otherwise it installs the build profile
# (scripts/install-deps.sh --build), builds outside the source tree and
# installs into $MIG_PREFIX. MIG_VERSION_CHECK, when set, is the version the
# build must have (0.1.0), or a prefix of it (0.1).
set -euo pipefail

prog=mig-action
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
	echo "::error title=mig::$*"
	exit 1
}

# source_key: mig-OS-ARCH-HASH over every file the build reads.
source_key() {
	local hash
	hash=$(cd "$src" && find Makefile tools scripts/install-deps.sh -type f \
		\( -name '*.c' -o -name '*.h' -o -name Makefile -o -name '*.sh' \) -print0 |
		LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-20)
	echo "mig-${RUNNER_OS:-Linux}-${RUNNER_ARCH:-X64}-${ImageOS:-local}-$hash"
}

case ${1:-} in
key)
	key=$(source_key)
	echo "key=$key"
	;;
build)
	: "${MIG_PREFIX:?MIG_PREFIX names the folder to install mig into}"
	key=$(source_key)
	if [[ -x $MIG_PREFIX/bin/mig-verify && -f $MIG_PREFIX/key && $(<"$MIG_PREFIX/key") == "$key" ]]; then
		echo "$prog: reusing the build in $MIG_PREFIX ($key)"
		"$src/scripts/install-deps.sh" --runtime
	else
		echo "$prog: building mig from $src"
		"$src/scripts/install-deps.sh" --build
		rm -rf "$MIG_PREFIX"
		build=$(mktemp -d "${RUNNER_TEMP:-/tmp}/mig-build.XXXXXX")
		make -C "$src" -j"$(nproc)" BUILD="$build/obj" BIN="$build/bin" >"$build/log" 2>&1 ||
			{ cat "$build/log"; die "the build of mig failed (log above)"; }
		make -C "$src" BUILD="$build/obj" BIN="$build/bin" install PREFIX="$MIG_PREFIX" >>"$build/log" 2>&1 ||
			{ cat "$build/log"; die "make install failed (log above)"; }
		rm -rf "$build"
		echo "$key" >"$MIG_PREFIX/key"
	fi
	version=$("$MIG_PREFIX/bin/mig-verify" --version | sed -n '1s/.* //p')
	[[ -n $version ]] || die "mig-verify --version printed no version"
	if [[ -n ${MIG_VERSION_CHECK:-} && $version != "$MIG_VERSION_CHECK" && $version != "$MIG_VERSION_CHECK".* ]]; then
		die "version-check: mig is $version here, not $MIG_VERSION_CHECK"
	fi
	echo "$MIG_PREFIX/bin" >>"$GITHUB_PATH"
	echo "version=$version" >>"$GITHUB_OUTPUT"
	echo "$prog: mig $version, its programs on PATH from the next step: $(cd "$MIG_PREFIX/bin" && echo mig-*)"
	;;
*)
	echo "usage: action-setup.sh key | build" >&2
	exit 2
	;;
esac
