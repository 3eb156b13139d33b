#!/usr/bin/env bats
# man.bats: the manual pages in tools/man against the programs.
#
# Every mig-* program that is built (MIG_BIN, default bin/) must have a page
# tools/man/<prog>.1 that renders without warnings, whose SYNOPSIS is the
# usage line of --help and whose SYNOPSIS and OPTIONS name exactly the long
# options --help names.  New programs are covered as soon as they are built.

load test_helper/common

setup() {
  programs=()
  local p
  for p in "${MIG_BIN:-$REPO/bin}"/mig-*; do
    [[ -f $p && -x $p ]] && programs+=("${p##*/}")
  done
  if ((${#programs[@]} == 0)); then
    fail "no mig-* programs in ${MIG_BIN:-$REPO/bin}; run make first"
  fi
  version=$(sed -n 's/^#define MIG_VERSION "\(.*\)"$/\1/p' "$REPO/tools/lib/mig.h")
}

# render PAGE: the page as plain ASCII text, lines wide enough not to wrap
# a synopsis or an option list entry.
render() {
  LC_ALL=C MANWIDTH=200 MAN_KEEP_FORMATTING='' MANPAGER=cat PAGER=cat man -l "$1"
}

# sections NAME... : the lines of the named sections of a rendered page (stdin).
sections() {
  awk -v want=" $* " '/^[A-Z][A-Z ]*[A-Z]$/ { on = index(want, " " $0 " ") > 0; next } on'
}

# long_options: the sorted set of --long-options in stdin, one a line.
long_options() {
  grep -oE -- '--[a-z-]+' | sort -u
}

# squeeze: stdin on one line, runs of white space as one space, trimmed.
squeeze() {
  tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'
}

# check_renders PAGE: fails when man or groff warn about PAGE.
check_renders() {
  local page=$1
  echo "# $page"
  [[ -f $page ]] || fail "no man page: $page"
  run --separate-stderr env LC_ALL=C MANWIDTH=80 MANPAGER=cat PAGER=cat \
    man --warnings -l "$page"
  assert_success
  assert_equal "$stderr" ""
  refute_output ""
  run --separate-stderr groff -mandoc -ww -z "$page"
  assert_success
  assert_output ""
  assert_equal "$stderr" ""
}

@test "every program's man page renders without warnings" {
  for prog in "${programs[@]}"; do
    check_renders "$REPO/tools/man/$prog.1"
  done
}

@test "the overview page mig(7) renders without warnings and names all seven programs" {
  check_renders "$REPO/tools/man/mig.7"
  text=$(render "$REPO/tools/man/mig.7")
  for prog in mig-upgrade mig-downgrade mig-status mig-new mig-verify mig-stamp \
    mig-check-schema; do
    [[ $text == *"$prog"* ]] || fail "mig(7) does not mention $prog"
  done
}

@test "every program's man page has the sections a mig manual needs" {
  for prog in "${programs[@]}"; do
    echo "# $prog"
    headings=$(render "$REPO/tools/man/$prog.1" | grep -E '^[A-Z][A-Z ]*[A-Z]$')
    for section in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT 'EXIT STATUS' \
      EXAMPLES 'SEE ALSO'; do
      grep -qx "$section" <<<"$headings" || fail "$prog.1 has no $section section"
    done
    name=$(render "$REPO/tools/man/$prog.1" | sections NAME | squeeze)
    # .Nd's dash is "--" in ASCII
    [[ $name == "$prog -- "?* ]] || fail "$prog.1: NAME is '$name'"
  done
}

@test "the long options in SYNOPSIS and OPTIONS are those of --help" {
  for prog in "${programs[@]}"; do
    echo "# $prog"
    page=$(render "$REPO/tools/man/$prog.1")
    from_help=$("$prog" --help | long_options)
    from_man=$(sections SYNOPSIS OPTIONS <<<"$page" | long_options)
    from_options=$(sections OPTIONS <<<"$page" | long_options)
    refute [ -z "$from_help" ]
    # comm -3 shows the difference: --help only in column 1, the page only in 2
    assert_equal "$(comm -3 <(echo "$from_help") <(echo "$from_man"))" ""
    # and OPTIONS alone describes every one of them
    assert_equal "$(comm -3 <(echo "$from_help") <(echo "$from_options"))" ""
  done
}

@test "the SYNOPSIS is the usage line of --help" {
  for prog in "${programs[@]}"; do
    echo "# $prog"
    usage=$("$prog" --help | sed '/^$/q' | sed 's/^usage: //' | squeeze)
    synopsis=$(render "$REPO/tools/man/$prog.1" | sections SYNOPSIS | squeeze)
    synopsis=${synopsis%" $prog -h | --help | --version"}
    [[ $usage == "$prog "* ]] || fail "$prog --help does not start with 'usage: $prog'"
    assert_equal "$synopsis" "$usage"
  done
}

@test "every program prints its help on stdout and exits 0 with --help and -h" {
  for prog in "${programs[@]}"; do
    echo "# $prog"
    run --separate-stderr "$prog" --help
    assert_success
    assert_line --index 0 --partial "usage: $prog "
    assert_equal "$stderr" ""
    help=$output
    run --separate-stderr "$prog" -h
    assert_success
    assert_output "$help"
    assert_equal "$stderr" ""
  done
}

@test "every program prints '<prog> (mig) <version>' and its licence with --version" {
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "no MIG_VERSION in tools/lib/mig.h"
  head -n 1 "$REPO/LICENSE" | grep -qx "MIT License" || fail "LICENSE is not the MIT licence"
  for prog in "${programs[@]}"; do
    echo "# $prog"
    run --separate-stderr "$prog" --version
    assert_success
    assert_line --index 0 "$prog (mig) $version"
    assert_line --index 1 "License: MIT <https://opensource.org/license/mit>"
    assert_equal "${#lines[@]}" 2
    assert_equal "$stderr" ""
  done
}

@test "every man page names the licence" {
  for page in "$REPO"/tools/man/*.[17]; do
    echo "# $page"
    render "$page" | sections LICENSE | grep -q "MIT" || fail "$page has no LICENSE section naming MIT"
  done
}

@test "every program exits 2 on an unknown option with one line, the synopsis and 'Try --help', not the whole help" {
  for prog in "${programs[@]}"; do
    echo "# $prog"
    synopsis=$("$prog" --help | sed '/^$/,$d')
    for bad in --no-such-option -Z; do
      run --separate-stderr "$prog" "$bad"
      assert_failure 2
      assert_output ""
      expected="$prog: unknown option '$bad'
$synopsis
Try '$prog --help' for more."
      assert_equal "$stderr" "$expected"
    done
    run --separate-stderr "$prog" --wait
    assert_failure 2
    [[ ${stderr%%$'\n'*} == "$prog: option '--wait' needs a value" ]] ||
      [[ ${stderr%%$'\n'*} == "$prog: --wait: "* ]] || fail "$prog: $stderr"
    [[ $stderr != *"Exit:"* ]] || fail "$prog prints the whole help"
  done
}

@test "every --help fits 80 columns" {
  for prog in "${programs[@]}"; do
    echo "# $prog"
    run --separate-stderr "$prog" --help
    assert_success
    wide=$(awk 'length > 80 { print length ": " $0 }' <<<"$output")
    [[ -z $wide ]] || fail "$prog --help has lines over 80 columns: $wide"
  done
}

@test "mandoc -Tlint reports no warning on any page" {
  command -v mandoc >/dev/null || fail "mandoc is missing: scripts/install-deps.sh --test installs it"
  for page in "$REPO"/tools/man/*.[17]; do
    echo "# $page"
    # -W warning: warnings and worse; STYLE notes (a cross-reference to a
    # page this machine has not installed) depend on the machine
    run mandoc -Tlint -W warning "$page"
    assert_success
    assert_output ""
  done
}

@test "make install puts every program and its man page under DESTDIR" {
  stage="$BATS_TEST_TMPDIR/stage"
  run make -C "$REPO" install PREFIX=/usr DESTDIR="$stage"
  assert_success
  for prog in "${programs[@]}"; do
    echo "# $prog"
    assert [ -x "$stage/usr/bin/$prog" ]
    assert [ -f "$stage/usr/share/man/man1/$prog.1" ]
    assert [ ! -x "$stage/usr/share/man/man1/$prog.1" ]
    cmp "$REPO/tools/man/$prog.1" "$stage/usr/share/man/man1/$prog.1"
    run --separate-stderr "$stage/usr/bin/$prog" --version
    assert_success
    assert_line --index 0 "$prog (mig) $version"
    run --separate-stderr env LC_ALL=C MANPAGER=cat PAGER=cat \
      man -M "$stage/usr/share/man" -w "$prog"
    assert_success
    assert_output "$stage/usr/share/man/man1/$prog.1"
  done
}
