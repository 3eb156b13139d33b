#!/usr/bin/env bats
# alembic-history.bats: mig-status --history prints what `alembic history`
# prints (tools/lib/revlog.c), compared with Debian's Alembic on the three
# Alembic fixtures of alembic-graph.bats (branches, merges, depends_on,
# branch labels, several bases), whole, with -v, and over ranges.
#
# Two things are made comparable first, both documented in mig-status(1):
# Alembic lists the versions folder in the file system's order, where mig
# uses the names' order, so test/test_helper/alembic_history.py lists it
# sorted; and Alembic prints the sets "Branches into:" and the branch labels
# in Python's hash order, which changes from run to run, where mig sorts
# them, so those lists are sorted on Alembic's side before comparing.

load test_helper/common
load test_helper/alembic

setup() {
  require_alembic
}

# sorted_sets: Alembic's text with its set-ordered lists sorted.
sorted_sets() {
  python3 -c '
import re, sys
for line in sys.stdin:
    line = line.rstrip("\n")
    m = re.match(r"^(Branches into|Branch names): (.*)$", line)
    if m:
        line = "%s: %s" % (m.group(1), ", ".join(sorted(m.group(2).split(", "))))
    else:
        m = re.match(r"^(.* -> \S+) \(([^)]*)\)(.*)$", line)
        if m and m.group(2) not in ("head", "effective head", "branchpoint", "mergepoint"):
            line = "%s (%s)%s" % (m.group(1), ", ".join(sorted(m.group(2).split(", "))), m.group(3))
    print(line)'
}

# same_as_alembic FIXTURE [HISTORY ARGS...]: `alembic history ARGS` and
# `mig-status --history ARGS` print the same text
# and both succeed, or both refuse.
same_as_alembic() {
  local dir=$REPO/test/fixtures/$1 a_status m_status args=("${@:2}")
  run --separate-stderr _alembic_env "$ALEMBIC_PYTHON" "$REPO/test/test_helper/alembic_history.py" "$dir" "${args[@]}"
  a_status=$status
  alembic=$(sorted_sets <<<"$output")
  run --separate-stderr mig-status --history -m "$dir" "${args[@]}"
  m_status=$status
  assert_equal "${args[*]}: exit $m_status" "${args[*]}: exit $a_status"
  assert_equal "$output" "$alembic"
}

@test "mig-status --history prints alembic history's lines on the classic fixture" {
  for args in "" "-v" "-r 2b7c9d1e3f40:" "-r :8b3c" "-r 3c8d:c2f7" "-r 3c8d:c2f7 -v" \
    "-r base:heads" "-r heads:" "-r 9c4d:" "-r :9c4d -v"; do
    # shellcheck disable=SC2086 # one word per argument
    same_as_alembic alembic_py_classic $args
  done
}

@test "mig-status --history prints alembic history's lines with branch labels and two bases" {
  # LABEL@base, LABEL@REV and LABEL@-N are read as Alembic reads them, and a
  # start of LABEL@... keeps only the heads on that branch
  for args in "" "-v" "-r 1c2f:6b7e" "-r core@head:" "-r :feature" "-r 7c8f: -v" \
    "-r audit@base:" "-r audit@base:heads" "-r core@1c2f:" "-r audit@-1:" "-r 7c8f2d4b6e98@base:" "-r 7c8f@base:" \
    "-r core@base:core@head"; do
    # shellcheck disable=SC2086
    same_as_alembic alembic_py_annotated $args
  done
}

@test "mig-status --history prints alembic history's lines with depends_on and three bases" {
  for args in "" "-v" "-r billing_0002:notify_0002" "-r search_0001:" "-r notify_0001:notify_0002 -v"; do
    # shellcheck disable=SC2086
    same_as_alembic alembic_py_multibase $args
  done
}

@test "mig-status --history refuses the ranges Alembic refuses" {
  # not an ancestor, a revision that does not exist, no colon, a branch that
  # does not exist
  for args in "-r c2f7:3c8d" "-r 1c2f:6b7e" "-r 8b3c" "-r nothere@base:"; do
    # shellcheck disable=SC2086
    same_as_alembic alembic_py_classic $args
  done
  run mig-status --history -m "$(fixture alembic_py_classic)" --rev-range 8b3c
  assert_failure 2
  assert_line --index 0 "mig-status: --rev-range '8b3c': a range is START:END, START: or :END"
  run mig-status --history -m "$(fixture alembic_py_classic)" --rev-range c2f7:3c8d
  assert_failure 2
  assert_line --index 0 "mig-status: revision 'c2f7a9b1d3ea' is not an ancestor of the end of the range"
}

@test "mig-status --history reads no database, and its flags go only with it" {
  # an unreachable server and a missing file: neither is opened
  DATABASE_URL=postgresql://nobody@127.0.0.1:1/none run --separate-stderr \
    mig-status --history -m "$(fixture branchy)"
  assert_success
  assert_line --index 0 "5e2b9a4d7c83 -> 6f1a8c3b5d94 (side) (head), create branchy_e"
  run mig-status --history -m "$(fixture branchy)" -d "sqlite:///$BATS_TEST_TMPDIR/none.db"
  assert_success
  refute [ -e "$BATS_TEST_TMPDIR/none.db" ]
  run mig-status -m "$(fixture branchy)" --rev-range base:heads
  assert_failure 2
  assert_line --index 0 "mig-status: --rev-range is for --history"
  run mig-status --history --check -m "$(fixture branchy)"
  assert_failure 2
  run --separate-stderr mig-status --history --format json -m "$(fixture branchy)"
  assert_failure 2
  run jq -r '.ok, .error.code' <<<"$output"
  assert_output "false
2"
}
