#!/usr/bin/env bats
# offline-sql.bats: --sql as Alembic's offline mode (tools/lib/offline.c).
# With no database (no -d, no $DATABASE_URL) or a FROM:TO range, mig-upgrade
# --sql and mig-downgrade --sql print a script that nobody had to connect for;
# replayed into a fresh database with sqlite3 or psql, it gives the same
# schema and alembic_version rows as mig-upgrade / mig-downgrade themselves.
#
# The folder is the branchy fixture and one transactional: false revision
# whose index is built CONCURRENTLY on PostgreSQL (outside a transaction) and
# plainly on SQLite, so per-dialect sections and transactional: false are in
# every script:
#
#   1a7f ─┬─ 2b6e ── 4d3c ─┬─ 5e2b (merge) ── 6f1a ── 7a0b (transactional: false)
#         └─ 3c5d (side) ──┘
#
# mig_history is mig's own journal of applied steps, which an offline script
# does not write (Alembic has none): the schemas are compared without it.

load test_helper/common

setup() {
  unset DATABASE_URL
  dir=$BATS_TEST_TMPDIR/migs
  cp -r "$(fixture branchy)" "$dir"
  cat >"$dir/versions/7a0b9c8d7e6f_note_index.sql" <<'EOF'
-- revision: 7a0b9c8d7e6f
-- down_revision: 6f1a8c3b5d94
-- message: index notes without blocking writes
-- transactional: false

-- +upgrade postgresql
CREATE INDEX CONCURRENTLY branchy_e_note ON branchy_e (note);

-- +upgrade sqlite
CREATE INDEX branchy_e_note ON branchy_e (note);

-- +downgrade
DROP INDEX branchy_e_note;
EOF
}

# new_db sqlite|postgresql: the URL of a fresh, empty database.
new_db() {
  if [[ $1 == postgresql ]]; then
    pg_new_db
  else
    sqlite_url "$BATS_TEST_TMPDIR/db$RANDOM$RANDOM.db"
  fi
}

# replay URL FILE: run the SQL script FILE with the dialect's own client,
# stopping at the first error, as a DBA would.
replay() {
  if _mig_is_pg "$1"; then
    _mig_psql "$(_mig_pg_dbname "$1")" -f "$2"
  else
    sqlite3 -batch -bail "$(_mig_sqlite_path "$1")" <"$2"
  fi
}

# schema URL: the whole schema as its dialect dumps it, mig_history left out
# (and pg_dump's comments and random \restrict keys), then the
# alembic_version rows.
schema() {
  if _mig_is_pg "$1"; then
    pg_dump --schema-only --no-owner -T '*.mig_history*' -h "$MIG_PG_HOST" -p "$MIG_PG_PORT" \
      -U "$MIG_PG_USER" -d "$(_mig_pg_dbname "$1")" | grep -v -e '^--' -e '^$' -e '^\\'
  else
    sqlite_sql "$1" "SELECT type, name, sql FROM sqlite_schema
      WHERE name NOT LIKE '%mig_history%' ORDER BY type, name"
  fi
  echo "rows: $(version_rows "$1")"
}

# check_same URL1 URL2: the two databases have the same schema and rows.
check_same() {
  assert_equal "$(schema "$1")" "$(schema "$2")"
}

# --- from base ----------------------------------------------------------------

offline_upgrade_from_base() {
  local dialect=$1 offline online
  offline=$(new_db "$dialect") online=$(new_db "$dialect")
  run --separate-stderr mig-upgrade --sql --dialect "$dialect" -m "$dir"
  assert_success
  assert_equal "$stderr" ""
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/up.sql"
  # Alembic's version-table DDL is in the script, as Alembic writes it
  assert_line --index 0 'CREATE TABLE alembic_version ('
  run replay "$offline" "$BATS_TEST_TMPDIR/up.sql"
  assert_success
  run mig-upgrade -m "$dir" -d "$online"
  assert_success
  check_same "$offline" "$online"
  assert_equal "$(version_rows "$offline")" 7a0b9c8d7e6f
  [[ $(schema "$offline") == *branchy_e_note* ]]
}

@test "sqlite: mig-upgrade --sql with no database replays with sqlite3 into what mig-upgrade builds" {
  offline_upgrade_from_base sqlite
}

@test "postgresql: mig-upgrade --sql with no database replays with psql into what mig-upgrade builds" {
  require_pg
  offline_upgrade_from_base postgresql
  # the PostgreSQL-only section ran, and the concurrent index is valid
  db=$(new_db postgresql)
  mig-upgrade --sql --dialect postgresql -m "$dir" >"$BATS_TEST_TMPDIR/up.sql"
  replay "$db" "$BATS_TEST_TMPDIR/up.sql"
  run pg_sql "$db" "SELECT obj_description('branchy_d'::regclass, 'pg_class')"
  assert_output "created on PostgreSQL only: 100% pg"
  run pg_sql "$db" "SELECT indisvalid FROM pg_index WHERE indexrelid = 'branchy_e_note'::regclass"
  assert_output t
}

# --- a range, in two scripts ----------------------------------------------------

offline_upgrade_range() {
  local dialect=$1 offline online
  offline=$(new_db "$dialect") online=$(new_db "$dialect")
  mig-upgrade --sql --dialect "$dialect" -m "$dir" --to base:4d3c1b6e8f72 >"$BATS_TEST_TMPDIR/1.sql"
  replay "$offline" "$BATS_TEST_TMPDIR/1.sql"
  mig-upgrade -m "$dir" -d "$online" --to 4d3c1b6e8f72 >/dev/null
  check_same "$offline" "$online"
  assert_equal "$(version_rows "$offline")" 4d3c1b6e8f72
  # the second script starts where the first stopped: no CREATE TABLE of the
  # version table, the side branch and the merge, then the rest
  run --separate-stderr mig-upgrade --sql --dialect "$dialect" -m "$dir" --to 4d3c1b6e8f72:heads
  assert_success
  refute_output --partial 'CREATE TABLE alembic_version'
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/2.sql"
  run replay "$offline" "$BATS_TEST_TMPDIR/2.sql"
  assert_success
  mig-upgrade -m "$dir" -d "$online" >/dev/null
  check_same "$offline" "$online"
  assert_equal "$(version_rows "$offline")" 7a0b9c8d7e6f
}

@test "sqlite: a FROM:TO range replays on top of the previous script, giving what mig-upgrade gives" {
  offline_upgrade_range sqlite
}

@test "postgresql: a FROM:TO range replays on top of the previous script, giving what mig-upgrade gives" {
  require_pg
  offline_upgrade_range postgresql
}

# --- downgrade ---------------------------------------------------------------

offline_downgrade() {
  local dialect=$1 offline online
  offline=$(new_db "$dialect") online=$(new_db "$dialect")
  mig-upgrade --sql --dialect "$dialect" -m "$dir" >"$BATS_TEST_TMPDIR/up.sql"
  replay "$offline" "$BATS_TEST_TMPDIR/up.sql"
  mig-upgrade -m "$dir" -d "$online" >/dev/null
  # back to one side of the branch, through the merge
  run --separate-stderr mig-downgrade --sql --dialect "$dialect" -m "$dir" --to 7a0b9c8d7e6f:2b6e4d8a1c53
  assert_success
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/down.sql"
  run replay "$offline" "$BATS_TEST_TMPDIR/down.sql"
  assert_success
  mig-downgrade -m "$dir" -d "$online" --to 2b6e4d8a1c53 >/dev/null
  check_same "$offline" "$online"
  assert_equal "$(version_rows "$offline")" "$(version_rows "$online")"
  assert_equal "$(version_rows "$offline")" "2b6e4d8a1c53 3c5d2e7f9a61"
  # and to base from both rows (FROM may list several, comma-separated):
  # Alembic's script drops the version table at the end
  run --separate-stderr mig-downgrade --sql --dialect "$dialect" -m "$dir" \
    --to 2b6e4d8a1c53,3c5d2e7f9a61:base
  assert_success
  assert_line 'DROP TABLE "alembic_version";'
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/base.sql"
  run replay "$offline" "$BATS_TEST_TMPDIR/base.sql"
  assert_success
  assert_equal "$(count_tables "$offline")" 0
  assert_equal "$(version_rows "$offline")" ""
}

@test "sqlite: mig-downgrade --sql FROM:TO replays into what mig-downgrade gives, and to base drops the version table" {
  offline_downgrade sqlite
}

@test "postgresql: mig-downgrade --sql FROM:TO replays into what mig-downgrade gives, and to base drops the version table" {
  require_pg
  offline_downgrade postgresql
}

# --- with a database, and the refusals ------------------------------------------

@test "with a database and no range, --sql plans from the database's rows and changes nothing" {
  db=$(new_db sqlite)
  mig-upgrade -m "$dir" -d "$db" --to 4d3c1b6e8f72 >/dev/null
  before=$(schema "$db")
  run --separate-stderr mig-upgrade --sql -m "$dir" -d "$db"
  assert_success
  refute_output --partial "Running upgrade 1a7f3c9e2b40"
  assert_output --partial "Running upgrade 3c5d2e7f9a61"
  assert_equal "$(schema "$db")" "$before"
}

@test "a range with a database URL is offline: the URL names the dialect and is never opened" {
  run --separate-stderr mig-upgrade --sql -m "$dir" -d "postgresql://nobody@127.0.0.1:1/none" --to base:1a7f3c9e2b40
  assert_success
  assert_output --partial "CREATE TABLE branchy_a"
  missing=$BATS_TEST_TMPDIR/never.db
  run --separate-stderr mig-upgrade --sql -m "$dir" -d "$(sqlite_url "$missing")" --to base:heads
  assert_success
  refute [ -e "$missing" ]
}

@test "offline --sql refuses what it cannot know, with exit 2 and the way out" {
  run --separate-stderr mig-upgrade --sql -m "$dir"
  assert_failure 2
  assert_equal "$stderr" "mig-upgrade: --sql without a database needs to know the dialect the SQL is for
hint: add --dialect sqlite or --dialect postgresql (or -d URL, which is read for its dialect only)"
  run mig-downgrade --sql --dialect sqlite -m "$dir" --to base
  assert_failure 2
  assert_line --index 0 "mig-downgrade: --sql without a database needs --to FROM:TO, the revisions the database is at and goes to"
  run --separate-stderr mig-upgrade --sql --dialect oracle -m "$dir"
  assert_failure 2
  run --separate-stderr mig-upgrade --sql --dialect sqlite -m "$dir" --to nosuch:heads
  assert_failure 2
  assert_output ""
  run --separate-stderr mig-upgrade --sql --dialect sqlite -m "$dir" --to :heads
  assert_failure 2
  run mig-upgrade -m "$dir" -d "$(new_db sqlite)" --to base:heads
  assert_failure 2
  assert_line --index 0 "mig-upgrade: a FROM:TO range is for --sql (the SQL without a database)"
  # a database says its own dialect: --dialect beside it would be a second opinion
  run mig-upgrade --sql --dialect postgresql -m "$dir" -d "$(new_db sqlite)"
  assert_failure 2
  assert_line --index 0 --partial "mig-upgrade: --dialect is for --sql without a database"
  run mig-upgrade --sql --dialect sqlite --version-schema ops -m "$dir"
  assert_failure 2
  assert_line --index 0 "mig-upgrade: --version-schema is for PostgreSQL; SQLite has no schemas"
}

@test "postgresql: --version-table and --version-schema go into the offline script as into mig-upgrade's rows" {
  require_pg
  offline=$(new_db postgresql) online=$(new_db postgresql)
  for db in "$offline" "$online"; do pg_sql "$db" "CREATE SCHEMA ops"; done
  mig-upgrade --sql --dialect postgresql --version-table deploys --version-schema ops -m "$dir" \
    >"$BATS_TEST_TMPDIR/up.sql"
  run replay "$offline" "$BATS_TEST_TMPDIR/up.sql"
  assert_success
  mig-upgrade -q --version-table deploys --version-schema ops -m "$dir" -d "$online"
  assert_equal "$(schema "$offline")" "$(schema "$online")"
  assert_equal "$(pg_sql "$offline" "SELECT version_num FROM ops.deploys")" 7a0b9c8d7e6f
  assert_equal "$(pg_sql "$online" "SELECT version_num FROM ops.deploys")" 7a0b9c8d7e6f
}

@test "--sql refuses a plan through an Alembic .py script, printing no SQL, with or without a database" {
  cat >"$dir/versions/8b1c0d9e8f70_py.py" <<'EOF'
revision = '8b1c0d9e8f70'
down_revision = '7a0b9c8d7e6f'


def upgrade():
    pass


def downgrade():
    pass
EOF
  run --separate-stderr mig-upgrade --sql --dialect sqlite -m "$dir"
  assert_failure 2
  assert_output ""
  [[ $stderr == *"8b1c0d9e8f70_py.py: an Alembic Python script cannot be run by mig"* ]]
  # with a database too: a script that skipped its SQL but wrote its
  # version row would mark it applied
  db=$(new_db sqlite)
  mig-upgrade -q -m "$dir" -d "$db" --to 7a0b9c8d7e6f
  run --separate-stderr mig-upgrade --sql -m "$dir" -d "$db"
  assert_failure 2
  assert_output ""
  [[ $stderr == *"8b1c0d9e8f70_py.py: an Alembic Python script cannot be run by mig"* ]]
}
