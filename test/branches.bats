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

# ---- Alembic's relative and branch targets (issue 18) --------------------------
#
#   A ── B ── D ──┬── M ── E        C carries the label "side"
#    └── C (side) ┘

relative_and_branch_targets() {
  step upgrade +1 "$A" "$(tables a)"
  step upgrade 2b6e+1 "$D" "$(tables a b d)"            # REV+N
  step upgrade side@+1 "$C $D" "$(tables a b c d)"      # LABEL@+N, branch not at a row yet
  step upgrade side@+1 "$M" "$(tables a b c d m)"       # LABEL@+N from the branch's row
  step upgrade +1 "$E" "$(tables a b c d m e)"          # +N
  step downgrade side@head-1 "$M" "$(tables a b c d m)" # LABEL@head-N
  step downgrade 4d3c-1 "$B $C" "$(tables a b c)"       # REV-N
  step downgrade side@-1 "$B" "$(tables a b)"           # LABEL@-N
  step upgrade side@base+2 "$B $C" "$(tables a b c)"    # LABEL@base+N
  step upgrade "side@$M" "$M" "$(tables a b c d m)"     # LABEL@REV
  step downgrade side@base "" ""                        # LABEL@base
  step upgrade head-1 "$M" "$(tables a b c d m)"        # head-N
  step downgrade base+1 "$A" "$(tables a)"              # base+N
}

@test "every relative and branch target form moves the database as Alembic does on SQLite" {
  use_dialect sqlite
  relative_and_branch_targets
  run_walk
}

@test "every relative and branch target form moves the database as Alembic does on PostgreSQL" {
  use_dialect postgresql
  relative_and_branch_targets
  run_walk
}

# refused TARGET-DIRECTION TARGET STATUS MESSAGE: mig refuses with STATUS and
# MESSAGE on stderr, Alembic refuses too, and neither changes a row.
refused() {
  local dir=$1 target=$2 want=$3 message=$4 before
  before=$(version_rows "$mig_db")
  run --separate-stderr "mig-$dir" -d "$mig_db" -m "$migs" "--to=$target"
  assert_failure "$want"
  [[ $stderr == *"$message"* ]] || fail "mig-$dir --to=$target: $stderr"
  assert_equal "$(version_rows "$mig_db")" "$before"
  run --separate-stderr alembic_cmd "$proj" "$alembic_db" "$dir" -- "$target"
  [[ $status -ne 0 || $dir$target == downgrade-1 ]] || fail "alembic $dir $target: $output"
}

targets_alembic_refuses() {
  step upgrade "$M" "$M" "$(tables a b c d m)"
  run_walk
  refused downgrade -1 2 "'-1' is ambiguous: the walk reaches a merge point at '$M'"
  refused upgrade +2 2 "'+2' goes beyond the head"
  refused downgrade "$D-5" 2 "'$D-5' goes beyond base"
  refused upgrade "side@$D" 2 "revision '$D' is not on branch 'side'"
  refused upgrade base+2 2 "'base+2' is ambiguous: the walk reaches a branch point at '$A'"
  refused downgrade +1 2 "'+1' goes up, and this is a downgrade"
  refused upgrade -1 2 "'-1' goes down, and this is an upgrade"
  # Alembic reads only the start of a relative target ("M+1x" is M+1); mig
  # refuses what follows (README.md, "Where mig and Alembic differ")
  run --separate-stderr mig-upgrade -d "$mig_db" -m "$migs" "--to=$M+1x"
  assert_failure 2
  [[ $stderr == *"is not a target: 'x' follows a relative step"* ]]
  assert_equal "$(version_rows "$mig_db")" "$M"
}

@test "targets Alembic refuses (beyond head or base, off the branch, an ambiguous walk) exit 2 and change nothing on SQLite" {
  use_dialect sqlite
  targets_alembic_refuses
}

@test "targets Alembic refuses (beyond head or base, off the branch, an ambiguous walk) exit 2 and change nothing on PostgreSQL" {
  use_dialect postgresql
  targets_alembic_refuses
}

downgrade_minus_one_from_two_rows() {
  step upgrade "$D" "$D" "$(tables a b d)"
  step upgrade side "$C $D" "$(tables a b c d)"
  run_walk
  # Alembic warns "downgrade -1 from multiple heads is ambiguous" and reverts
  # whichever row it read first; mig asks which one was meant
  run --separate-stderr mig-downgrade -d "$mig_db" -m "$migs" --to=-1
  assert_failure 4
  [[ $stderr == *"'-1' is ambiguous: the database is at 2 heads ($C, $D)"* ]]
  [[ $stderr == *"say which: side@-1, $C-1, $D-1"* ]]
  assert_equal "$(version_rows "$mig_db")" "$C $D"
  # the targets it names work
  run --separate-stderr mig-downgrade -d "$mig_db" -m "$migs" --to=side@-1
  assert_success
  assert_equal "$(version_rows "$mig_db")" "$D"
}

@test "downgrade -1 from two rows, where Alembic guesses, exits 4 and names the targets that say which on SQLite" {
  use_dialect sqlite
  downgrade_minus_one_from_two_rows
}

@test "downgrade -1 from two rows, where Alembic guesses, exits 4 and names the targets that say which on PostgreSQL" {
  use_dialect postgresql
  downgrade_minus_one_from_two_rows
}

# ---- stamps as Alembic stamps -----------------------------------------------------

# stamp_both ARGS...: mig-stamp ARGS (with --no-verify) and alembic stamp ARGS
# (mig's --force has no Alembic counterpart), and the rows agree.
stamp_both() {
  local a
  run --separate-stderr mig-stamp -d "$mig_db" -m "$migs" --no-verify "$@"
  assert_success
  local alembic_args=()
  for a in "$@"; do [[ $a == --force ]] || alembic_args+=("$a"); done
  run --separate-stderr alembic_cmd "$proj" "$alembic_db" stamp "${alembic_args[@]}"
  assert_success
  assert_equal "$(version_rows "$mig_db")" "$(version_rows "$alembic_db")"
}

branch_aware_stamp() {
  step upgrade "$D" "$D" "$(tables a b d)"
  step upgrade side "$C $D" "$(tables a b c d)"
  run_walk
  # without --force the recorded rows are not overwritten
  run --separate-stderr mig-stamp -d "$mig_db" -m "$migs" --no-verify "$B"
  assert_failure 4
  assert_equal "$(version_rows "$mig_db")" "$C $D"
  # stamping B at C, D moves D's row only: C's branch keeps its row
  stamp_both --force "$B"
  assert_equal "$(version_rows "$mig_db")" "$B $C"
  # side@base removes the row of that branch only
  stamp_both --force side@base
  assert_equal "$(version_rows "$mig_db")" "$B"
  # several revisions at once, from no rows (--purge)
  stamp_both --purge "$D" side
  assert_equal "$(version_rows "$mig_db")" "$C $D"
  # LABEL@head and heads
  stamp_both --force side@head
  assert_equal "$(version_rows "$mig_db")" "$E"
  stamp_both --force base
  assert_equal "$(version_rows "$mig_db")" ""
}

@test "mig-stamp is branch-aware as Alembic's stamp: other branches' rows stay, base and LABEL@base, several revisions, --purge on SQLite" {
  use_dialect sqlite
  branch_aware_stamp
}

@test "mig-stamp is branch-aware as Alembic's stamp: other branches' rows stay, base and LABEL@base, several revisions, --purge on PostgreSQL" {
  use_dialect postgresql
  branch_aware_stamp
}

stamp_then_upgrade_plans_what_is_missing() {
  # a database whose tables a, b and c were made before migrations, by the
  # upgrade sections of A, B and C run by hand
  local f
  for f in base_a branch_b branch_c; do
    sed -n '/^-- +upgrade$/,/^-- +downgrade/p' "$migs"/versions/*_$f.sql \
      | grep -v '^--' >>"$BATS_TEST_TMPDIR/legacy.sql"
  done
  if [[ $mig_db == sqlite* ]]; then
    sqlite3 "$(_mig_sqlite_path "$mig_db")" <"$BATS_TEST_TMPDIR/legacy.sql"
  else
    _mig_psql "$(_mig_pg_dbname "$mig_db")" -q -f "$BATS_TEST_TMPDIR/legacy.sql" >/dev/null
  fi
  run --separate-stderr mig-stamp -d "$mig_db" -m "$migs" "$B" side
  assert_success
  assert_line "checked: the schema holds what the migrations up to it create"
  assert_equal "$(version_rows "$mig_db")" "$B $C"
  run --separate-stderr mig-upgrade -d "$mig_db" -m "$migs" --format json
  assert_success
  assert_equal "$(jq -c '.applied | map(.revision)' <<<"$output")" "[\"$D\",\"$M\",\"$E\"]"
  assert_equal "$(db_tables "$mig_db")" "$(tables a b c d m e)"
}

@test "after stamping two revisions at once the next mig-upgrade applies only what is missing on SQLite" {
  use_dialect sqlite
  stamp_then_upgrade_plans_what_is_missing
}

@test "after stamping two revisions at once the next mig-upgrade applies only what is missing on PostgreSQL" {
  use_dialect postgresql
  stamp_then_upgrade_plans_what_is_missing
}

# ---- graph rules -------------------------------------------------------------------

@test "a branch label declared by two revisions, or equal to a revision id, is an error, as Alembic refuses such a folder" {
  local m=$BATS_TEST_TMPDIR/m db=$BATS_TEST_TMPDIR/dup.db
  mkdir -p "$m/versions"
  printf -- '-- revision: aaaa1\n-- down_revision: none\n\n-- +upgrade\nCREATE TABLE t1 (id INTEGER);\n-- +downgrade\nDROP TABLE t1;\n' >"$m/versions/aaaa1_a.sql"
  printf -- '-- revision: bbbb2\n-- down_revision: aaaa1\n-- branch_labels: feat\n\n-- +upgrade\nCREATE TABLE t2 (id INTEGER);\n-- +downgrade\nDROP TABLE t2;\n' >"$m/versions/bbbb2_b.sql"
  printf -- '-- revision: cccc3\n-- down_revision: aaaa1\n-- branch_labels: feat\n\n-- +upgrade\nCREATE TABLE t3 (id INTEGER);\n-- +downgrade\nDROP TABLE t3;\n' >"$m/versions/cccc3_c.sql"
  run --separate-stderr mig-verify --lint-only -m "$m" --allow-multiple-heads
  assert_failure 1
  assert_output --partial "cccc3_c.sql:1: error: branch label 'feat' of 'cccc3' is also declared in $m/versions/bbbb2_b.sql:1"
  run --separate-stderr mig-upgrade -m "$m" -d "$(sqlite_url "$db")" --to heads
  assert_failure 2
  [[ $stderr == *"branch label 'feat' of 'cccc3' is also declared in"* ]] || fail "$stderr"
  [[ ! -s $db ]] || assert_equal "$(db_tables "$(sqlite_url "$db")")" ""
  # a label that is another revision's id
  sed -i 's/^-- branch_labels: feat$/-- branch_labels: aaaa1/' "$m/versions/cccc3_c.sql"
  sed -i '/^-- branch_labels: feat$/d' "$m/versions/bbbb2_b.sql"
  run --separate-stderr mig-verify --lint-only -m "$m" --allow-multiple-heads
  assert_failure 1
  assert_output --partial "branch label 'aaaa1' of 'cccc3' is the id of the revision in"
}
