#!/usr/bin/env bats
# install-deps.bats: the profiles of scripts/install-deps.sh, judged by what
# apt would install on a machine that has none of their packages
# (--simulate: apt-get -s against an empty package status), and, given a
# fresh Debian 12 root (MIG_DEBIAN_ROOT, e.g. made with debootstrap), by a
# real --test install there.

load test_helper/common

deps=$REPO/scripts/install-deps.sh

# simulated PROFILE: the packages apt would install for --PROFILE, one a line.
simulated() {
  "$deps" "--$1" --simulate | awk '$1 == "Inst" { print $2 }' | sort
}

# A server: the PostgreSQL server packages, or postgresql-common, whose
# postinst creates and starts a cluster.
server_re='^(postgresql(-[0-9]+)?|postgresql-common|postgresql-contrib)$'

setup() {
  command -v apt-get >/dev/null || skip "apt-get is not installed: install-deps.sh is for Debian"
}

@test "--runtime would install the shared libraries and no compiler, no header, no server" {
  run simulated runtime
  assert_success
  for pkg in libsqlite3-0 libyaml-0-2 libpq5; do assert_line "$pkg"; done
  refute_line --regexp "$server_re"
  refute_line --regexp '^(gcc|gcc-[0-9]+|make|.*-dev)$'
}

@test "--build, the default, would add the compiler and the headers and still no server" {
  run simulated build
  assert_success
  for pkg in libsqlite3-0 libyaml-0-2 libpq5 gcc make pkg-config libpq-dev libsqlite3-dev libyaml-dev; do
    assert_line "$pkg"
  done
  refute_line --regexp "$server_re"
  refute_line --regexp '^(clang|valgrind|nodejs|bats)$'
  assert_equal "$("$deps" --list)" "$("$deps" --build --list)"
}

@test "--test would add the suite's tools and the server binaries; each profile contains the one before" {
  run simulated test
  assert_success
  for pkg in postgresql-15 bats clang valgrind python3-alembic debhelper; do assert_line "$pkg"; done
  runtime=$("$deps" --runtime --list)
  build=$("$deps" --build --list)
  tst=$("$deps" --test --list)
  run comm -23 <(sort <<<"$runtime") <(sort <<<"$build")
  assert_output ""
  run comm -23 <(sort <<<"$build") <(sort -u <<<"$tst")
  assert_output ""
}

@test "an unknown option is refused with the usage (exit 2)" {
  run --separate-stderr "$deps" --server
  assert_failure 2
  [[ $stderr == *"unknown option '--server'"* ]] || fail "no message: $stderr"
  [[ $stderr == *"--runtime"* ]] || fail "no usage: $stderr"
}

@test "--test in a fresh Debian 12 root installs the PostgreSQL binaries and leaves no cluster behind" {
  [[ -n ${MIG_DEBIAN_ROOT:-} ]] ||
    skip "needs a fresh Debian 12 root in MIG_DEBIAN_ROOT (debootstrap --variant=minbase bookworm DIR); it downloads about 243 MB"
  ((EUID == 0)) || skip "needs root to chroot into $MIG_DEBIAN_ROOT"
  root=$MIG_DEBIAN_ROOT
  [[ -e $root/proc/self ]] || skip "mount /proc in $root first (mount -t proc proc $root/proc): package scripts need it"
  mkdir -p "$root/mig"
  cp "$deps" "$root/mig/install-deps.sh"
  run chroot "$root" bash /mig/install-deps.sh --test
  assert_success
  assert [ -x "$root/usr/lib/postgresql/15/bin/initdb" ]
  run chroot "$root" pg_lsclusters --no-header
  assert_success
  assert_output ""
  assert [ ! -e "$root/etc/postgresql/15/main" ]
  assert [ ! -e "$root/var/lib/postgresql/15/main" ]
}

@test "the README's two commands use --build and --test, and .ci/run runs exactly the test one" {
  run grep -E '^\./scripts/install-deps\.sh .*&& make (verify|test) ' "$REPO/README.md"
  assert_line --index 0 --regexp '^\./scripts/install-deps\.sh --build && make verify '
  assert_line --index 1 --regexp '^\./scripts/install-deps\.sh --test && make test '
  readme_test=$(sed -n 's/^\(\.\/scripts\/install-deps\.sh --test && make test\) .*/\1/p' "$REPO/README.md")
  run grep -cxF "$readme_test" "$REPO/.ci/run"
  assert_output 1
}
