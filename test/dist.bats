#!/usr/bin/env bats
# dist.bats: the release tarball, the one version number and the build knobs
# a packager or another platform needs (CPPFLAGS, WERROR, LIBPQ, CC=clang).

load test_helper/common

setup() {
  version=$(sed -n 's/^#define MIG_VERSION "\(.*\)"$/\1/p' "$REPO/tools/lib/mig.h")
}

@test "the version is kept in tools/lib/mig.h and the changelogs name it" {
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "no MIG_VERSION in tools/lib/mig.h"
  run make -s -C "$REPO" --no-print-directory -f Makefile -f - print-version <<<'print-version: ; @echo $(VERSION)'
  assert_success
  assert_output "$version"
  grep -q "^## $version - " "$REPO/CHANGELOG.md" || fail "CHANGELOG.md has no entry for $version"
  run head -n 1 "$REPO/debian/changelog"
  assert_output --regexp "^mig \\($version\\) "
}

@test "make dist writes mig-VERSION.tar.gz, which builds, installs and passes make verify on its own" {
  command -v git >/dev/null || skip "git is not installed: make dist packs the tracked files"
  command -v clang >/dev/null || skip "clang is not installed (install-deps.sh --test)"
  out=$BATS_TEST_TMPDIR/out
  mkdir -p "$out"
  run make -C "$REPO" dist DISTDIR="$out"
  assert_success
  assert_output --partial "mig-$version.tar.gz"
  tarball=$out/mig-$version.tar.gz
  assert [ -f "$tarball" ]
  # Every entry is under mig-VERSION/; no build output, no .git.
  run bash -c "tar -tzf '$tarball' | grep -v '^mig-$version/'"
  assert_output ""
  run bash -c "tar -tzf '$tarball' | grep -E '(^|/)(\.git/|bin/|build/|node_modules/)'"
  assert_output ""
  for f in LICENSE CHANGELOG.md README.md Makefile tools/lib/mig.h migrations/schema.yaml; do
    tar -tzf "$tarball" "mig-$version/$f" >/dev/null || fail "the tarball lacks $f"
  done

  mkdir "$out/build"
  tar -xzf "$tarball" -C "$out/build"
  tree=$out/build/mig-$version
  # clang with -Werror: CC=clang builds warning-free.
  run make -C "$tree" -j2 CC=clang
  assert_success
  run make -C "$tree" install PREFIX=/usr DESTDIR="$out/root"
  assert_success
  run "$out/root/usr/bin/mig-verify" --version
  assert_success
  assert_line --index 0 "mig-verify (mig) $version"
  assert [ -f "$out/root/usr/share/man/man1/mig-verify.1" ]
  run make -C "$tree" verify
  assert_success
  assert_output --partial "verify: ok, head b07a366647c3"
}

@test "CPPFLAGS reaches every compilation, and WERROR=0 turns -Werror off" {
  hdr=$BATS_TEST_TMPDIR/marker.h
  echo '#error CPPFLAGS-reached-the-compiler' >"$hdr"
  run make -C "$REPO" BUILD="$BATS_TEST_TMPDIR/b" BIN="$BATS_TEST_TMPDIR/b/bin" \
    CPPFLAGS="-include $hdr" "$BATS_TEST_TMPDIR/b/lib/util.o"
  assert_failure
  assert_output --partial "CPPFLAGS-reached-the-compiler"

  # A warning is an error by default, and only a warning under WERROR=0.
  echo '#warning a-warning-from-CPPFLAGS' >"$hdr"
  run make -C "$REPO" BUILD="$BATS_TEST_TMPDIR/w" BIN="$BATS_TEST_TMPDIR/w/bin" \
    CPPFLAGS="-include $hdr" "$BATS_TEST_TMPDIR/w/lib/util.o"
  assert_failure
  assert_output --partial "a-warning-from-CPPFLAGS"
  run make -C "$REPO" BUILD="$BATS_TEST_TMPDIR/w" BIN="$BATS_TEST_TMPDIR/w/bin" WERROR=0 \
    CPPFLAGS="-include $hdr" "$BATS_TEST_TMPDIR/w/lib/util.o"
  assert_success
  assert_output --partial "a-warning-from-CPPFLAGS"
  assert [ -f "$BATS_TEST_TMPDIR/w/lib/util.o" ]
}

@test "LIBPQ names the libpq library the programs load (another platform's name)" {
  b=$BATS_TEST_TMPDIR/b
  run make -C "$REPO" -j2 BUILD="$b" BIN="$b/bin" LIBPQ=libpq.5.dylib "$b/bin/mig-status"
  assert_success
  run --separate-stderr "$b/bin/mig-status" -d 'postgresql://u:secret@127.0.0.1:1/db'
  assert_failure 3
  [[ $stderr == *"cannot load libpq.5.dylib"* ]] || fail "the error does not name libpq.5.dylib: $stderr"
  [[ $stderr != *secret* ]] || fail "the password was printed"
}
