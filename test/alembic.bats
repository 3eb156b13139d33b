#!/usr/bin/env bats
# alembic.bats: mig and the real Alembic (Debian's python3-alembic) on one
# database, on SQLite and PostgreSQL. What mig-* writes, `alembic current`
# reads; what `alembic stamp` and `alembic upgrade` write, mig-status reads; and
# the alembic_version table mig creates is the one Alembic creates.
#
# The Alembic projects are built by test_helper/alembic from the .sql files of
# migrations/ (the repository's baseline b07a366647c3) and of
# test/fixtures/branchy (see branches.bats for its graph):
#
#   A 1a7f3c9e2b40 ─┬─ B 2b6e4d8a1c53 ─── D 4d3c1b6e8f72 ─┬─ M 5e2b9a4d7c83 ─── E 6f1a8c3b5d94
#                   └─ C 3c5d2e7f9a61 (branch label side) ─┘

load test_helper/common
load test_helper/alembic

BASELINE=b07a366647c3
A=1a7f3c9e2b40 B=2b6e4d8a1c53 C=3c5d2e7f9a61 D=4d3c1b6e8f72 M=5e2b9a4d7c83 E=6f1a8c3b5d94

# The Alembic projects are built once for the file; no test changes them.
setup_file() {
  alembic_project "$REPO/migrations" "$BATS_FILE_TMPDIR/alembic-repo"
  alembic_project "$(fixture branchy)" "$BATS_FILE_TMPDIR/alembic-branchy"
}

setup() {
  require_alembic
  repo_migs="$REPO/migrations"
  repo_proj="$BATS_FILE_TMPDIR/alembic-repo"
  branchy=$(fixture branchy)
  branchy_proj="$BATS_FILE_TMPDIR/alembic-branchy"
}

# new_db sqlite|postgresql: echo the URL of a fresh, empty database.
new_db() {
  if [[ $1 == postgresql ]]; then
    pg_new_db
  else
    sqlite_url "$(mktemp "$BATS_TEST_TMPDIR/db.XXXXXX")"
  fi
}

# status_json URL [ARGS...]: state, current and heads from mig-status --format json
# on branchy, as one compact JSON line.
status_json() {
  local url=$1
  shift
  mig-status -d "$url" -m "$branchy" --format json "$@" | jq -c '{state, current, heads}'
}

# --- (a) mig writes, alembic reads ------------------------------------------

alembic_reads_the_baseline_mig_upgrade_applied() {
  db=$(new_db "$1")
  run --separate-stderr mig-upgrade -d "$db" -m "$repo_migs"
  assert_success
  assert_equal "$(no_progress <<<"$stderr")" ""
  tables=$(count_tables "$db")
  ((tables > 0))
  run --separate-stderr alembic_cmd "$repo_proj" "$db" current
  assert_success
  assert_output "$BASELINE (head)"
  assert_equal "$stderr" ""
  # And Alembic sees nothing left to do.
  run --separate-stderr alembic_cmd "$repo_proj" "$db" upgrade head
  assert_success
  assert_equal "$(version_rows "$db")" "$BASELINE"
  assert_equal "$(count_tables "$db")" "$tables"
}

@test "alembic current reports the baseline after mig-upgrade of the repository's migrations on SQLite" {
  alembic_reads_the_baseline_mig_upgrade_applied sqlite
}

@test "alembic current reports the baseline after mig-upgrade of the repository's migrations on PostgreSQL" {
  require_pg
  alembic_reads_the_baseline_mig_upgrade_applied postgresql
}

alembic_downgrades_what_mig_upgraded() {
  db=$(new_db "$1")
  run --separate-stderr mig-upgrade -d "$db" -m "$repo_migs"
  assert_success
  run --separate-stderr alembic_cmd "$repo_proj" "$db" downgrade base
  assert_success
  assert_equal "$(version_rows "$db")" ""
  assert_equal "$(count_tables "$db")" 0
  run --separate-stderr mig-status -d "$db" -m "$repo_migs" --format json
  assert_success
  assert_equal "$(jq -c '{state, current}' <<<"$output")" '{"state":"base","current":[]}'
}

@test "alembic downgrade base reverts what mig-upgrade applied and mig-status then reports base on SQLite" {
  alembic_downgrades_what_mig_upgraded sqlite
}

@test "alembic downgrade base reverts what mig-upgrade applied and mig-status then reports base on PostgreSQL" {
  require_pg
  alembic_downgrades_what_mig_upgraded postgresql
}

alembic_current_follows_mig_upgrade_through_the_merge() {
  db=$(new_db "$1")
  alembic_session_start "$branchy_proj" "$db"
  local target want
  for target in "$A" "$B" side "$D" "$M" heads; do
    echo "# mig-upgrade --to $target"
    run --separate-stderr mig-upgrade -d "$db" -m "$branchy" --to "$target"
    assert_success
    want=$(version_rows "$db")
    run --separate-stderr alembic_revs "$branchy_proj" "$db" current
    assert_success
    assert_output "$want"
    assert_equal "$stderr" ""
  done
  assert_equal "$want" "$E"
}

@test "alembic current reads every row mig-upgrade writes through the branch and the merge on SQLite" {
  alembic_current_follows_mig_upgrade_through_the_merge sqlite
}

@test "alembic current reads every row mig-upgrade writes through the branch and the merge on PostgreSQL" {
  require_pg
  alembic_current_follows_mig_upgrade_through_the_merge postgresql
}

# --- (b) alembic stamps, mig reads -----------------------------------------

mig_status_reads_alembic_stamp() {
  db=$(new_db "$1")
  run --separate-stderr alembic_cmd "$repo_proj" "$db" stamp "$BASELINE"
  assert_success
  assert_equal "$(version_rows "$db")" "$BASELINE"
  run --separate-stderr mig-status -d "$db" -m "$repo_migs"
  assert_success
  assert_line "current:  $BASELINE"
  assert_line "heads:    $BASELINE"
  assert_line --regexp '^state: +current'
  assert_equal "$stderr" ""
  run --separate-stderr mig-status -d "$db" -m "$repo_migs" --format json
  assert_success
  assert_equal "$(jq -c '{state, current, heads, pending, unknown}' <<<"$output")" \
    "{\"state\":\"current\",\"current\":[\"$BASELINE\"],\"heads\":[\"$BASELINE\"],\"pending\":[],\"unknown\":[]}"
  run --separate-stderr mig-status -d "$db" -m "$repo_migs" --check
  assert_success
}

@test "mig-status reports the revision alembic stamp wrote on a fresh SQLite database" {
  mig_status_reads_alembic_stamp sqlite
}

@test "mig-status reports the revision alembic stamp wrote on a fresh PostgreSQL database" {
  require_pg
  mig_status_reads_alembic_stamp postgresql
}

mig_status_reads_two_stamped_heads() {
  db=$(new_db "$1")
  run --separate-stderr alembic_cmd "$branchy_proj" "$db" stamp "$B" side
  assert_success
  assert_equal "$(version_rows "$db")" "$B $C"
  run --separate-stderr mig-status -d "$db" -m "$branchy"
  assert_success
  assert_line "current:  $B, $C"
  assert_line "heads:    $E"
  run --separate-stderr status_json "$db"
  assert_success
  assert_output "{\"state\":\"behind\",\"current\":[\"$B\",\"$C\"],\"heads\":[\"$E\"]}"
  run --separate-stderr mig-status -d "$db" -m "$branchy" --check
  assert_failure 1
}

@test "mig-status reports both branches after alembic stamp of two revisions on SQLite" {
  mig_status_reads_two_stamped_heads sqlite
}

@test "mig-status reports both branches after alembic stamp of two revisions on PostgreSQL" {
  require_pg
  mig_status_reads_two_stamped_heads postgresql
}

mig_status_reads_alembic_stamp_base() {
  db=$(new_db "$1")
  run --separate-stderr alembic_cmd "$branchy_proj" "$db" stamp "$A"
  assert_success
  run --separate-stderr alembic_cmd "$branchy_proj" "$db" stamp base
  assert_success
  assert_equal "$(version_rows "$db")" ""
  run --separate-stderr status_json "$db"
  assert_success
  assert_output "{\"state\":\"base\",\"current\":[],\"heads\":[\"$E\"]}"
}

@test "mig-status reports base after alembic stamp base leaves an empty version table on SQLite" {
  mig_status_reads_alembic_stamp_base sqlite
}

@test "mig-status reports base after alembic stamp base leaves an empty version table on PostgreSQL" {
  require_pg
  mig_status_reads_alembic_stamp_base postgresql
}

# --- (c) alembic upgrades, mig reads ---------------------------------------

mig_status_follows_alembic_upgrade_through_the_merge() {
  db=$(new_db "$1")
  alembic_session_start "$branchy_proj" "$db"
  local target state check
  for target in "$A" "$B" side "$D" "$M" heads; do
    echo "# alembic upgrade $target"
    run --separate-stderr alembic_cmd "$branchy_proj" "$db" upgrade "$target"
    assert_success
    current=$(alembic_revs "$branchy_proj" "$db" current)
    heads=$(alembic_revs "$branchy_proj" "$db" heads)
    assert_equal "$heads" "$E"
    state=behind check=1
    if [[ $current == "$heads" ]]; then state=current check=0; fi
    run --separate-stderr mig-status -d "$db" -m "$branchy" --format json
    assert_success
    assert_equal "$(jq -r '.current | join(" ")' <<<"$output")" "$current"
    assert_equal "$(jq -r '.heads | join(" ")' <<<"$output")" "$heads"
    assert_equal "$(jq -r '.state' <<<"$output")" "$state"
    assert_equal "$(jq -r '.unknown | length' <<<"$output")" 0
    run --separate-stderr mig-status -d "$db" -m "$branchy"
    assert_success
    assert_line "current:  ${current// /, }"
    assert_line "heads:    $heads"
    run --separate-stderr mig-status -d "$db" -m "$branchy" --check
    assert_equal "$status" "$check"
  done
  assert_equal "$current" "$E"
}

@test "mig-status agrees with alembic current and heads after each alembic upgrade through the merge on SQLite" {
  mig_status_follows_alembic_upgrade_through_the_merge sqlite
}

@test "mig-status agrees with alembic current and heads after each alembic upgrade through the merge on PostgreSQL" {
  require_pg
  mig_status_follows_alembic_upgrade_through_the_merge postgresql
}

# turn WHO DIR TARGET ROWS: WHO (mig or alembic) runs DIR (upgrade or
# downgrade) to TARGET on $db; the database then holds the version rows ROWS.
turn() {
  echo "# $1 $2 $3"
  if [[ $1 == mig ]]; then
    run --separate-stderr "mig-$2" -d "$db" -m "$branchy" --to "$3"
  else
    run --separate-stderr alembic_cmd "$branchy_proj" "$db" "$2" "$3"
  fi
  assert_success
  assert_equal "$(version_rows "$db")" "$4"
}

mig_and_alembic_take_turns() {
  db=$(new_db "$1")
  alembic_session_start "$branchy_proj" "$db"
  turn mig upgrade side "$C"
  turn alembic upgrade 4d3c "$C $D"
  turn mig upgrade "$M" "$M"
  turn alembic upgrade heads "$E"
  assert_equal "$(db_tables "$db")" \
    "branchy_a branchy_b branchy_c branchy_d branchy_e branchy_m"
  turn mig downgrade "$B" "$B $C"
  turn alembic downgrade "$A" "$A"
  turn mig downgrade base ""
  assert_equal "$(count_tables "$db")" 0
}

@test "mig and alembic take turns upgrading and downgrading one SQLite database through the merge" {
  mig_and_alembic_take_turns sqlite
}

@test "mig and alembic take turns upgrading and downgrading one PostgreSQL database through the merge" {
  require_pg
  mig_and_alembic_take_turns postgresql
}

# --- (d) the version table itself ------------------------------------------

# sqlite_version_ddl URL TABLE: every sqlite_schema row of TABLE (type, name, sql).
sqlite_version_ddl() {
  sqlite_sql "$1" "SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = '$2' ORDER BY type, name"
}

@test "the alembic_version table mig creates on SQLite has exactly Alembic's DDL" {
  mig_db=$(new_db sqlite)
  alembic_db=$(new_db sqlite)
  run --separate-stderr mig-upgrade -d "$mig_db" -m "$branchy" --to "$A"
  assert_success
  run --separate-stderr alembic_cmd "$branchy_proj" "$alembic_db" stamp "$A"
  assert_success
  want=$(sqlite_version_ddl "$alembic_db" alembic_version)
  [[ $want == *"CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)"* ]]
  assert_equal "$(sqlite_version_ddl "$mig_db" alembic_version)" "$want"
}

@test "a version table mig creates on SQLite under --version-table has exactly Alembic's DDL for that name" {
  mig_db=$(new_db sqlite)
  alembic_db=$(new_db sqlite)
  run --separate-stderr mig-upgrade -d "$mig_db" -m "$branchy" --to "$A" --version-table deploys
  assert_success
  run --separate-stderr alembic_cmd "$branchy_proj" "$alembic_db" -x version_table=deploys stamp "$A"
  assert_success
  want=$(sqlite_version_ddl "$alembic_db" deploys)
  [[ $want == *"CONSTRAINT deploys_pkc PRIMARY KEY (version_num)"* ]]
  assert_equal "$(sqlite_version_ddl "$mig_db" deploys)" "$want"
  run --separate-stderr alembic_revs "$branchy_proj" "$mig_db" current -x version_table=deploys
  assert_success
  assert_output "$A"
}

# pg_version_ddl URL SCHEMA.TABLE: columns, constraints and indexes of the table.
pg_version_ddl() {
  pg_sql "$1" "
    SELECT 'column', attname, format_type(atttypid, atttypmod), attnotnull::text
      FROM pg_attribute WHERE attrelid = '$2'::regclass AND attnum > 0 AND NOT attisdropped;
    SELECT 'constraint', conname, contype::text, pg_get_constraintdef(oid)
      FROM pg_constraint WHERE conrelid = '$2'::regclass ORDER BY conname;
    SELECT 'index', c.relname, pg_get_indexdef(i.indexrelid), i.indisprimary::text
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = '$2'::regclass ORDER BY c.relname"
}

@test "the alembic_version table mig creates on PostgreSQL has Alembic's columns, constraint and index" {
  require_pg
  mig_db=$(new_db postgresql)
  alembic_db=$(new_db postgresql)
  run --separate-stderr mig-upgrade -d "$mig_db" -m "$branchy" --to "$A"
  assert_success
  run --separate-stderr alembic_cmd "$branchy_proj" "$alembic_db" stamp "$A"
  assert_success
  want=$(pg_version_ddl "$alembic_db" public.alembic_version)
  [[ $want == *"constraint|alembic_version_pkc|p|PRIMARY KEY (version_num)"* ]]
  assert_equal "$(pg_version_ddl "$mig_db" public.alembic_version)" "$want"
}

@test "mig and alembic read each other's version table in another PostgreSQL schema" {
  require_pg
  mig_db=$(new_db postgresql)
  alembic_db=$(new_db postgresql)
  pg_sql "$mig_db" "CREATE SCHEMA deploy"
  pg_sql "$alembic_db" "CREATE SCHEMA deploy"
  run --separate-stderr mig-upgrade -d "$mig_db" -m "$branchy" --to side \
    --version-table versions --version-schema deploy
  assert_success
  run --separate-stderr alembic_cmd "$branchy_proj" "$alembic_db" \
    -x version_table=versions -x version_schema=deploy stamp side
  assert_success
  assert_equal "$(pg_version_ddl "$mig_db" deploy.versions)" \
    "$(pg_version_ddl "$alembic_db" deploy.versions)"
  run --separate-stderr alembic_revs "$branchy_proj" "$mig_db" current \
    -x version_table=versions -x version_schema=deploy
  assert_success
  assert_output "$C"
  run --separate-stderr status_json "$alembic_db" --version-table versions --version-schema deploy
  assert_success
  assert_output "{\"state\":\"behind\",\"current\":[\"$C\"],\"heads\":[\"$E\"]}"
}

# --- (e) Alembic's own scripts in versions/ ---------------------------------

@test "mig-status reads the graph of Alembic's own scripts as alembic heads does" {
  dep_proj="$BATS_TEST_TMPDIR/alembic-depends"
  alembic_project "$(fixture branchy_depends)" "$dep_proj"
  for proj in "$branchy_proj" "$dep_proj"; do
    echo "# $proj"
    db=$(new_db sqlite)
    run --separate-stderr alembic_cmd "$proj" "$db" stamp base
    assert_success
    heads=$(alembic_revs "$proj" "$db" heads)
    run --separate-stderr mig-status -d "$db" -m "$proj" --format json
    assert_success
    assert_equal "$(jq -r '.heads | join(" ")' <<<"$output")" "$heads"
    assert_equal "$(jq -r '.state' <<<"$output")" base
  done
  assert_equal "$heads" "7a1b2c3d4e52 8b1c2d3e4f62"
}

@test "mig-status reads a hand-written Alembic script that heads a graph of .sql migrations" {
  mixed=$(fixture alembic_mixed)
  db=$(new_db sqlite)
  run --separate-stderr mig-upgrade -d "$db" -m "$mixed" --to "$M"
  assert_success
  assert_equal "$(version_rows "$db")" "$M"
  run --separate-stderr mig-status -d "$db" -m "$mixed" --format json
  assert_success
  assert_equal "$(jq -c '{state, current, heads, pending: [.pending[].revision]}' <<<"$output")" \
    "{\"state\":\"behind\",\"current\":[\"$M\"],\"heads\":[\"$E\"],\"pending\":[\"$E\"]}"
  # Alembic itself, on the equivalent project, then finishes the job.
  run --separate-stderr alembic_cmd "$branchy_proj" "$db" upgrade heads
  assert_success
  assert_equal "$(version_rows "$db")" "$E"
  run --separate-stderr mig-status -d "$db" -m "$mixed" --check
  assert_success
}

# An upgrade whose plan holds an Alembic script can never finish; mig knows
# that before it starts, and exit 2 (bad migration files) should mean that
# nothing was applied rather than a database left half way to the target.
@test "mig-upgrade refuses a plan that holds an Alembic script before applying anything" {
  mixed=$(fixture alembic_mixed)
  db=$(new_db sqlite)
  run --separate-stderr mig-upgrade -d "$db" -m "$mixed"
  assert_failure 2
  [[ $stderr == *"6f1a8c3b5d94_after_merge.py: an Alembic Python script cannot be run by mig"* ]]
  refute_output --partial applied
  assert_equal "$(version_rows "$db")" ""
  assert_equal "$(count_tables "$db")" 0
}
