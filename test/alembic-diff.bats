#!/usr/bin/env bats
# alembic-diff.bats: the differential test against the real Alembic
# (Debian's python3-alembic 1.8.1). test/alembic_diff.py generates random
# revision graphs (3 to 30 revisions: branches, merges, depends_on, branch
# labels, several bases) and random upgrade, downgrade and stamp commands with
# targets of every form, runs each with Alembic (in process) and with the mig
# programs from the same version rows of one SQLite file, and compares whether
# it was refused, the rows after it and the steps applied, in order. Where
# they differ by one of the deliberate divergences listed in README.md ("Where
# mig and Alembic differ") the driver counts it; any other difference fails
# and prints the graph and the commands that reproduce it.
#
# CI runs a fixed seed; `make fuzz` runs more commands with a fresh seed
# (MIG_DIFF_SEED, MIG_DIFF_COMMANDS).

load test_helper/common
load test_helper/alembic

setup() {
  require_alembic
  BIN_DIR=$(dirname "$(type -P mig-upgrade)")
}

@test "alembic-diff: a fixed-seed batch of 2,000 commands agrees with Alembic" {
  local seed=${MIG_DIFF_SEED:-20261207} count=${MIG_DIFF_COMMANDS:-2000}
  run "$ALEMBIC_PYTHON" "$REPO/test/alembic_diff.py" --bin "$BIN_DIR" \
    --seed "$seed" --commands "$count"
  echo "$output" | tail -n 60
  [ "$status" -eq 0 ]
  [[ ${lines[-1]} == "$count commands on "*"; 0 disagreements" ]]
  # most commands are compared on what they did, not only on being refused
  local agree
  agree=$(sed -n 's/.*: agree \([0-9]*\),.*/\1/p' <<<"${lines[-1]}")
  (( agree * 3 > count ))
}

@test "alembic-diff: a mig that plans wrongly is caught, with the graph and the commands" {
  # a mig-upgrade that ignores --to and goes to every head
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  for p in mig-downgrade mig-stamp; do ln -s "$BIN_DIR/$p" "$BATS_TEST_TMPDIR/bin/$p"; done
  cat >"$BATS_TEST_TMPDIR/bin/mig-upgrade" <<SH
#!/bin/sh
shift
exec "$BIN_DIR/mig-upgrade" --to heads "\$@"
SH
  chmod +x "$BATS_TEST_TMPDIR/bin/mig-upgrade"
  run "$ALEMBIC_PYTHON" "$REPO/test/alembic_diff.py" --bin "$BATS_TEST_TMPDIR/bin" \
    --seed 7 --commands 100 --work "$BATS_TEST_TMPDIR/work"
  [ "$status" -eq 1 ]
  [[ $output == *"DISAGREEMENT (seed 7, graph "* ]]
  [[ $output == *"graph:"*" <- (base)"* ]]
  [[ $output == *"commands (rows before each):"*"upgrade "* ]]
  [[ ${lines[-1]} == *" disagreements" && ${lines[-1]} != *"; 0 disagreements" ]]
}

# Alembic's own cases: every upgrade, downgrade and stamp of Alembic 1.8.1's
# tests/test_version_traversal.py, with the graph it runs on and the steps and
# rows Alembic's test expects (test/fixtures/alembic_traversal_cases.json,
# made by test/test_helper/port_alembic_cases.py from Alembic's repository at
# tag rel_1_8_1).
@test "Alembic's own traversal test cases give Alembic's steps and rows with mig" {
  run "$ALEMBIC_PYTHON" "$REPO/test/alembic_cases.py" --bin "$BIN_DIR" \
    "$REPO/test/fixtures/alembic_traversal_cases.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ ${lines[-1]} == "79 of Alembic's cases, 77 run, 0 failed, 0 a documented divergence, 0 a known mig bug"* ]]
}

# Alembic 1.8.1's tests/test_revision.py, every RevisionMap call its tests
# make that a mig command can make (test/fixtures/alembic_revision_cases.json,
# made by test/test_helper/port_alembic_revision_cases.py, which records what
# Alembic answered): iterate_revisions as upgrade and downgrade call it, and
# as `alembic history -r` does (mig-status --history -r); get_revision of one
# revision, get_revisions, and the names they refuse, as a stamp; heads as
# mig-status --history marks them; maps with a cycle or a self-loop refused
# by mig-verify --lint-only. One case
# downgrades from rows of which one is an ancestor of the other, which mig
# refuses; one is a known mig bug (alembic_cases.py, KNOWN_BUGS); the calls no
# command can make are listed with the reasons under "not_expressible".
@test "Alembic's own revision-map test cases give Alembic's answers with mig" {
  run "$ALEMBIC_PYTHON" "$REPO/test/alembic_cases.py" --bin "$BIN_DIR" \
    "$REPO/test/fixtures/alembic_revision_cases.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ ${lines[-2]} == "342 further calls of Alembic's tests no mig command can make (59 entries"* ]]
  [[ ${lines[-1]} == "106 of Alembic's cases, 106 run, 0 failed, 1 a documented divergence, 0 a known mig bug"* ]]
}
