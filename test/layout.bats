#!/usr/bin/env bats
# layout: the shape of the library that ARCHITECTURE.md describes holds:
# one header per module, each file including exactly the project headers it
# uses (scripts/check-includes.py), no header over 300 lines, no library
# file over 900.

load test_helper/common

setup_file() {
	command -v python3 >/dev/null ||
		skip "python3 is not installed (scripts/install-deps.sh --test installs it)"
}

@test "includes: every C file includes exactly the project headers it uses" {
	cd "$REPO"
	run --separate-stderr scripts/check-includes.py tools/lib/*.c tools/lib/*.h tools/*.c fuzz/*.c
	printf '# %s\n' "${stderr_lines[@]}" >&3
	assert_success
	assert_equal "$stderr" ""
}

@test "includes: a header included and not used is found" {
	cp "$REPO/tools/lib/plan.c" "$BATS_TEST_TMPDIR/plan.c"
	# spec.h declares nothing plan.c names
	sed -i 's/^#include "plan.h"$/&\n#include "spec.h"/' "$BATS_TEST_TMPDIR/plan.c"
	grep -qx '#include "spec.h"' "$BATS_TEST_TMPDIR/plan.c"
	run --separate-stderr "$REPO/scripts/check-includes.py" "$BATS_TEST_TMPDIR/plan.c"
	assert_failure 1
	assert_equal "$stderr" "$BATS_TEST_TMPDIR/plan.c: includes spec.h but uses none of its names"
}

@test "includes: a header used but reached only through another is found" {
	cp "$REPO/tools/lib/plan.c" "$BATS_TEST_TMPDIR/plan.c"
	# plan.h brings graph.h in, but plan.c must say it uses the graph itself
	sed -i '/^#include "graph.h"$/d' "$BATS_TEST_TMPDIR/plan.c"
	run --separate-stderr "$REPO/scripts/check-includes.py" "$BATS_TEST_TMPDIR/plan.c"
	assert_failure 1
	assert_regex "$stderr" "^$BATS_TEST_TMPDIR/plan.c: uses [a-zA-Z_]+ of graph.h without including it\$"
}

@test "includes: a name only in a comment or a string does not count as a use" {
	cp "$REPO/tools/lib/plan.c" "$BATS_TEST_TMPDIR/plan.c"
	printf '%s\n' '#include "spec.h"' '/* mig_spec_load */' \
		'static const char *unused_name = "mig_spec_dump";' >>"$BATS_TEST_TMPDIR/plan.c"
	run --separate-stderr "$REPO/scripts/check-includes.py" "$BATS_TEST_TMPDIR/plan.c"
	assert_failure 1
	assert_equal "$stderr" "$BATS_TEST_TMPDIR/plan.c: includes spec.h but uses none of its names"
}

@test "headers: one per module, none over 300 lines" {
	cd "$REPO/tools/lib"
	# util.c's header is mig.h; a dialect's half of a module (db_pg.c,
	# autogen_sqlite.c) exports only its table of functions, declared in the
	# header of the interface it implements (db.h, autogen_render.h)
	for c in *.c; do
		[[ -f ${c%.c}.h || $c == util.c || $c == *_pg.c || $c == *_sqlite.c ]] ||
			fail "$c has no header ${c%.c}.h"
	done
	for h in *.h; do
		n=$(wc -l <"$h")
		((n <= 300)) || fail "$h has $n lines (at most 300)"
	done
}

@test "library files: none over 900 lines" {
	cd "$REPO/tools/lib"
	for c in *.c; do
		n=$(wc -l <"$c")
		((n <= 900)) || fail "$c has $n lines (at most 900: split it along its jobs)"
	done
}

@test "ARCHITECTURE.md: under 200 lines, every file it names exists, every module is on its map" {
	cd "$REPO"
	n=$(wc -l <ARCHITECTURE.md)
	((n < 200)) || fail "ARCHITECTURE.md has $n lines (fewer than 200)"
	mapfile -t named < <(grep -oE '`(tools|scripts|bench|test|schemas)/[^`* ]*`' ARCHITECTURE.md |
		tr -d '`' | sort -u)
	((${#named[@]} > 30)) || fail "only ${#named[@]} paths named"
	for path in "${named[@]}"; do
		[[ -e $path ]] || fail "ARCHITECTURE.md names $path, which does not exist"
	done
	# bare module names too (the run's flow names cli.c, plan.c...)
	mapfile -t modules < <(grep -oE '(^|[^/a-z_])[a-z_]+\.[ch]\b' ARCHITECTURE.md |
		grep -oE '[a-z_]+\.[ch]$' | sort -u)
	((${#modules[@]} > 5)) || fail "only ${#modules[@]} module names found"
	for m in "${modules[@]}"; do
		[[ -e tools/lib/$m ]] || fail "ARCHITECTURE.md names $m, which is not in tools/lib"
	done
	for c in tools/lib/*.c; do
		grep -qF "\`$c\`" ARCHITECTURE.md || fail "$c is not on ARCHITECTURE.md's map"
	done
}
