#!/usr/bin/env bats
# branches.bats: mig-upgrade and mig-downgrade through a branch point and a
# merge write, after every command, the alembic_version rows that the real
# Alembic writes for the same command on a database of its own, and leave the
# tables of exactly the revisions applied. Both dialects.
#
# test/fixtures/branchy (revision N creates table branchy_<n>):
#
#   A 1a7f3c9e2b40 ─┬─ B 2b6e4d8a1c53 ─── D 4d3c1b6e8f72 ─┬─ M 5e2b9a4d7c83 ─── E 6f1a8c3b5d94
#                   └─ C 3c5d2e7f9a61 (branch label side) ─┘   (merge)
#
# D also has a PostgreSQL-only section.
#
# test/fixtures/branchy_depends (revision N creates table dep_<n>): two bases,
# and a revision of one branch that depends_on the base of the other.
#
#   L1 7a1b2c3d4e51 (branch label lib) ── L2 7a1b2c3d4e52
#        :
#        : depends_on
#   P1 8b1c2d3e4f61 (branch label app) ── P2 8b1c2d3e4f62
#
# The Alembic side is the equivalent project that test_helper/alembic builds
# from the same .sql files; its migrations run the same SQL, so the tables are
# compared too.

load test_helper/common
load test_helper/alembic

A=1a7f3c9e2b40 B=2b6e4d8a1c53 C=3c5d2e7f9a61 D=4d3c1b6e8f72 M=5e2b9a4d7c83 E=6f1a8c3b5d94
L1=7a1b2c3d4e51 L2=7a1b2c3d4e52 P1=8b1c2d3e4f61 P2=8b1c2d3e4f62

# The Alembic projects are built once for the file; no test changes them.
setup_file() {
  local name
  for name in branchy branchy_depends; do
    alembic_project "$(fixture "$name")" "$BATS_FILE_TMPDIR/alembic-$name"
  done
}

setup() {
  require_alembic
  use_fixture branchy branchy_
  walk_steps=()
}

# use_fixture NAME TABLE_PREFIX: migs is test/fixtures/NAME, proj its Alembic
# equivalent, and `tables` names tables TABLE_PREFIX<x>.
use_fixture() {
  migs=$(fixture "$1")
  table_prefix=$2
  proj="$BATS_FILE_TMPDIR/alembic-$1"
}

# use_dialect sqlite|postgresql: set mig_db and alembic_db to two fresh,
# empty databases of that dialect.
use_dialect() {
  if [[ $1 == postgresql ]]; then
    require_pg
    mig_db=$(pg_new_db)
    alembic_db=$(pg_new_db)
  else
    mig_db=$(sqlite_url "$BATS_TEST_TMPDIR/mig.db")
    alembic_db=$(sqlite_url "$BATS_TEST_TMPDIR/alembic.db")
  fi
}

# tables X...: the table names revisions X... create, sorted, on one line.
tables() {
  local t out=()
  for t in "$@"; do out+=("$table_prefix$t"); done
  printf '%s\n' "${out[@]}" | LC_ALL=C sort | paste -sd ' ' -
}

# step upgrade|downgrade TARGET ROWS TABLES: add a step to the walk that
# run_walk runs: `mig-DIR --to TARGET` on mig_db and `alembic DIR TARGET` on
# alembic_db both succeed; both databases then hold the version rows ROWS
# (sorted, space-separated) and the tables TABLES.
step() {
  walk_steps+=("$@")
}

# run_walk: the steps added so far. Alembic takes all of them in one process
# (alembic_walk), which reports its rows and tables after each; then mig takes
# them one by one, and each step compares both sides with what it expects.
# (Not `i`: bats' own version check, behind `run --separate-stderr`, sets a
# global i without declaring it local, and so clobbers a caller's local i.)
run_walk() {
  local n k dir target rows want_tables at st=0 alembic_args=() alembic_states
  for ((n = 0; n < ${#walk_steps[@]}; n += 4)); do
    alembic_args+=("${walk_steps[n]}" "${walk_steps[n + 1]}")
  done
  alembic_walk "$proj" "$alembic_db" "${alembic_args[@]}" \
    >"$BATS_TEST_TMPDIR/walk.out" 2>"$BATS_TEST_TMPDIR/walk.err" || st=$?
  mapfile -t alembic_states <"$BATS_TEST_TMPDIR/walk.out"
  for ((n = 0, k = 0; n < ${#walk_steps[@]}; n += 4, k++)); do
    dir=${walk_steps[n]} target=${walk_steps[n + 1]}
    rows=${walk_steps[n + 2]} want_tables=${walk_steps[n + 3]}
    echo "# step $((k + 1)): $dir $target (expect rows '$rows')"
    ((k < ${#alembic_states[@]})) ||
      fail "alembic $dir $target failed (exit $st): $(cat "$BATS_TEST_TMPDIR/walk.err")"
    assert_equal "${alembic_states[k]}" "$rows"$'\t'"$want_tables"
    run --separate-stderr "mig-$dir" -d "$mig_db" -m "$migs" --to "$target"
    assert_success
    assert_equal "$(no_progress <<<"$stderr")" ""
    at=${rows// /, }
    assert_line --index -1 --regexp "^(nothing to do: )?database is at ${at:-base}( \(|$)"
    assert_equal "$(version_rows "$mig_db")" "$rows"
    assert_equal "$(db_tables "$mig_db")" "$want_tables"
  done
  assert_equal "$st" 0
  walk_steps=()
}

# The walks, each run on both dialects by the tests below.

upgrade_one_revision_at_a_time() {
  step upgrade 1a7f "$A" "$(tables a)"
  step upgrade "$B" "$B" "$(tables a b)"
  step upgrade side "$B $C" "$(tables a b c)"
  step upgrade "$D" "$C $D" "$(tables a b c d)"
  step upgrade "$M" "$M" "$(tables a b c d m)"
  step upgrade heads "$E" "$(tables a b c d m e)"
  step upgrade head "$E" "$(tables a b c d m e)"
}

upgrade_across_branches() {
  step upgrade side "$C" "$(tables a c)"
  step upgrade 4d3c "$C $D" "$(tables a b c d)"
  step upgrade side@head "$E" "$(tables a b c d m e)"
}

upgrade_to_the_merge_from_base() {
  step upgrade "$M" "$M" "$(tables a b c d m)"
}

downgrade_one_revision_at_a_time() {
  step upgrade heads "$E" "$(tables a b c d m e)"
  step downgrade -1 "$M" "$(tables a b c d m)"
  step downgrade "$D" "$C $D" "$(tables a b c d)"
  step downgrade "$B" "$B $C" "$(tables a b c)"
  step downgrade side "$B $C" "$(tables a b c)"
  step downgrade 1a7f "$A" "$(tables a)"
  step downgrade -1 "" ""
  step upgrade heads "$E" "$(tables a b c d m e)"
  step downgrade base "" ""
}

downgrade_from_the_merge_to_one_branch() {
  step upgrade heads "$E" "$(tables a b c d m e)"
  step downgrade side "$C $D" "$(tables a b c d)"
  step upgrade heads "$E" "$(tables a b c d m e)"
  step downgrade 2b6e "$B $C" "$(tables a b c)"
  step upgrade "$M" "$M" "$(tables a b c d m)"
  step downgrade 3c5d "$C $D" "$(tables a b c d)"
  step downgrade "$A" "$A" "$(tables a)"
  step upgrade side "$C" "$(tables a c)"
  step downgrade -1 "$A" "$(tables a)"
}

upgrade_through_a_dependency() {
  step upgrade "$P2" "$P2" "$(tables l1 p1 p2)"
  step upgrade heads "$L2 $P2" "$(tables l1 l2 p1 p2)"
  step downgrade "$L1" "$P2" "$(tables l1 p1 p2)"
  step downgrade "$P1" "$L1 $P1" "$(tables l1 p1)"
  step upgrade app@head "$P2" "$(tables l1 p1 p2)"
  step downgrade base "" ""
}

upgrade_each_branch_in_turn() {
  step upgrade lib "$L1" "$(tables l1)"
  step upgrade "$P1" "$L1 $P1" "$(tables l1 p1)"
  step upgrade "$P2" "$P2" "$(tables l1 p1 p2)"
  step upgrade "$L2" "$L2 $P2" "$(tables l1 l2 p1 p2)"
  step downgrade "$P1" "$L2 $P1" "$(tables l1 l2 p1)"
  step downgrade "$L1" "$L1 $P1" "$(tables l1 p1)"
  step downgrade base "" ""
}

@test "mig-upgrade one revision at a time through the branch and the merge writes Alembic's rows on SQLite" {
  use_dialect sqlite
  upgrade_one_revision_at_a_time
  run_walk
}

@test "mig-upgrade one revision at a time through the branch and the merge writes Alembic's rows on PostgreSQL" {
  use_dialect postgresql
  upgrade_one_revision_at_a_time
  run_walk
}

@test "mig-upgrade to a branch label, then to the other branch, then to LABEL@head writes Alembic's rows on SQLite" {
  use_dialect sqlite
  upgrade_across_branches
  run_walk
}

@test "mig-upgrade to a branch label, then to the other branch, then to LABEL@head writes Alembic's rows on PostgreSQL" {
  use_dialect postgresql
  upgrade_across_branches
  run_walk
}

@test "mig-upgrade to the merge from an empty database applies both branches as Alembic does on SQLite" {
  use_dialect sqlite
  upgrade_to_the_merge_from_base
  run_walk
}

@test "mig-upgrade to the merge from an empty database applies both branches as Alembic does on PostgreSQL" {
  use_dialect postgresql
  upgrade_to_the_merge_from_base
  run_walk
}

@test "mig-downgrade back through the merge and the branch point writes Alembic's rows on SQLite" {
  use_dialect sqlite
  downgrade_one_revision_at_a_time
  run_walk
}

@test "mig-downgrade back through the merge and the branch point writes Alembic's rows on PostgreSQL" {
  use_dialect postgresql
  downgrade_one_revision_at_a_time
  run_walk
}

@test "mig-downgrade from the merge or above it to one branch keeps the other branch as Alembic does on SQLite" {
  use_dialect sqlite
  downgrade_from_the_merge_to_one_branch
  run_walk
}

@test "mig-downgrade from the merge or above it to one branch keeps the other branch as Alembic does on PostgreSQL" {
  use_dialect postgresql
  downgrade_from_the_merge_to_one_branch
  run_walk
}

@test "mig-upgrade to a revision that depends_on another branch writes Alembic's rows on SQLite" {
  use_fixture branchy_depends dep_
  use_dialect sqlite
  upgrade_through_a_dependency
  run_walk
}

@test "mig-upgrade to a revision that depends_on another branch writes Alembic's rows on PostgreSQL" {
  use_fixture branchy_depends dep_
  use_dialect postgresql
  upgrade_through_a_dependency
  run_walk
}

@test "mig-upgrade and mig-downgrade of each branch in turn next to a dependency write Alembic's rows on SQLite" {
  use_fixture branchy_depends dep_
  use_dialect sqlite
  upgrade_each_branch_in_turn
  run_walk
}

@test "mig-upgrade and mig-downgrade of each branch in turn next to a dependency write Alembic's rows on PostgreSQL" {
  use_fixture branchy_depends dep_
  use_dialect postgresql
  upgrade_each_branch_in_turn
  run_walk
}

# Alembic resolves LABEL@head through down_revision only (filter_for_lineage
# without dependencies): lib@head is L2 alone, and P2, which merely depends_on
# L1, is not on branch lib. mig's graph.c follows depends_on edges too.
@test "mig-upgrade --to LABEL@head stays on that branch and does not follow depends_on, as Alembic does" {
  use_fixture branchy_depends dep_
  use_dialect sqlite
  step upgrade lib@head "$L2" "$(tables l1 l2)"
  run_walk
}

@test "the PostgreSQL-only section of a migration runs on PostgreSQL and not on SQLite" {
  require_pg
  pg=$(pg_new_db)
  lite=$(sqlite_url "$BATS_TEST_TMPDIR/lite.db")
  run --separate-stderr mig-upgrade -d "$pg" -m "$migs" --to "$D"
  assert_success
  run --separate-stderr mig-upgrade -d "$lite" -m "$migs" --to "$D"
  assert_success
  assert_equal "$(no_progress <<<"$stderr")" ""
  assert_equal "$(pg_sql "$pg" "SELECT obj_description('branchy_d'::regclass, 'pg_class')")" \
    "created on PostgreSQL only: 100% pg"
  assert_equal "$(db_tables "$lite")" "$(tables a b d)"
}

@test "mig-downgrade refuses a target on another branch and changes nothing, as Alembic does" {
  use_dialect sqlite
  step upgrade "$D" "$D" "$(tables a b d)"
  run_walk
  run --separate-stderr mig-downgrade -d "$mig_db" -m "$migs" --to side
  assert_failure 2
  assert_output ""
  [[ $stderr == *"'$C' is not below the database's revision"* ]]
  run --separate-stderr alembic_cmd "$proj" "$alembic_db" downgrade side
  assert_failure 255                             # Alembic's sys.exit(-1)
  assert_output --partial "FAILED: Destination side is not a valid downgrade target"
  assert_equal "$(version_rows "$mig_db")" "$D"
  assert_equal "$(version_rows "$alembic_db")" "$D"
  assert_equal "$(db_tables "$mig_db")" "$(tables a b d)"
}
