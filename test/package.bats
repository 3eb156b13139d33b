#!/usr/bin/env bats
# package.bats: the Debian package, built from the release tarball as a
# distribution would build it, and the container image.

load test_helper/common

setup() {
  version=$(sed -n 's/^#define MIG_VERSION "\(.*\)"$/\1/p' "$REPO/tools/lib/mig.h")
}

@test "dpkg-buildpackage makes mig_VERSION_amd64.deb: programs and man pages under /usr, Depends names libpq5 and libpg-query" {
  command -v dpkg-buildpackage >/dev/null ||
    skip "dpkg-buildpackage is not installed (install-deps.sh --test installs dpkg-dev and debhelper)"
  command -v dh >/dev/null || skip "debhelper is not installed (install-deps.sh --test installs it)"
  out=$BATS_TEST_TMPDIR
  run make -C "$REPO" dist DISTDIR="$out"
  assert_success
  tar -xzf "$out/mig-$version.tar.gz" -C "$out"
  # dpkg-buildpackage writes the packages next to the source tree: into $out.
  run bash -c "cd '$out/mig-$version' && dpkg-buildpackage -us -uc -b 2>&1"
  assert_success
  arch=$(dpkg --print-architecture)
  deb=$out/mig_${version}_$arch.deb
  assert [ -f "$deb" ]

  # Debian's hardening flags reached the compiler, and WERROR=0 dropped -Werror.
  assert_output --partial "-fstack-protector-strong -Wformat -Werror=format-security"
  assert_output --partial "-Wdate-time -D_FORTIFY_SOURCE=2"
  refute_output --regexp ' -Werror( |$)'

  run dpkg-deb -f "$deb" Depends
  assert_success
  assert_output --regexp '(^|, )libpq5(,|$| )'
  assert_output --regexp "(^|, )libpg-query1504.0(,|$| )"
  assert_output --partial "libnettle8"
  assert_output --partial "libsqlite3-0"
  assert_output --partial "libyaml-0-2"

  root=$out/root
  dpkg-deb -x "$deb" "$root"
  for prog in mig-upgrade mig-downgrade mig-status mig-verify mig-check-schema mig-stamp mig-new; do
    assert [ -x "$root/usr/bin/$prog" ]
    assert [ -f "$root/usr/share/man/man1/$prog.1.gz" ]
  done
  assert [ -f "$root/usr/share/man/man7/mig.7.gz" ]
  grep -q "^License: MIT" "$root/usr/share/doc/mig/copyright" || fail "copyright does not name MIT"
  run bash -c "find '$root' -path '*/local/*'"
  assert_output ""

  # The unpacked mig-verify on this repository's migrations.
  run --separate-stderr "$root/usr/bin/mig-verify" -m "$REPO/migrations" --expect-tables 23 \
    --spec "$REPO/migrations/schema.yaml" --strict --roundtrip
  assert_success
  assert_output --partial "verify: ok, head b07a366647c3"
  run "$root/usr/bin/mig-verify" --version
  assert_line --index 0 "mig-verify (mig) $version"
}

@test "the container image builds and runs mig-verify --version" {
  command -v docker >/dev/null || skip "docker is not installed"
  docker info >/dev/null 2>&1 ||
    skip "docker cannot build here: no Docker engine answers ($(docker info 2>&1 | grep -m1 -iE 'cannot|error' || echo 'docker info failed'))"
  tag=mig-test:$version-$$
  run docker build -q -t "$tag" "$REPO"
  assert_success
  run docker run --rm "$tag" mig-verify --version
  assert_success
  assert_line --index 0 "mig-verify (mig) $version"
  run docker run --rm "$tag" id -u
  refute_output 0
  docker rmi -f "$tag" >/dev/null
}
