#!/usr/bin/env bats
# harness.bats: the test harness itself (PostgreSQL sandbox and helpers).
# Needs no mig program, so it runs before anything is built.

load test_helper/common

@test "the sandbox answers on its unix socket as mig without a password" {
  require_pg
  run --separate-stderr env -u PGPASSWORD PGPASSFILE="$BATS_TEST_TMPDIR/no-pgpass" \
    psql -X -At -h "$MIG_PG_HOST" -p "$MIG_PG_PORT" -U mig -d postgres -c 'SELECT current_user'
  assert_success
  assert_output mig
  assert_equal "$stderr" ""
}

@test "the sandbox answers on 127.0.0.1 with the password" {
  require_pg
  PGPASSFILE="$BATS_TEST_TMPDIR/no-pgpass" PGPASSWORD=$MIG_PG_PASSWORD run --separate-stderr \
    psql -X -At "host=127.0.0.1 port=$MIG_PG_PORT user=mig dbname=postgres" \
    -c 'SELECT inet_server_addr()'
  assert_success
  assert_output 127.0.0.1
  assert_equal "$stderr" ""
}

@test "the server refuses a wrong password over TCP" {
  require_pg
  PGPASSFILE="$BATS_TEST_TMPDIR/no-pgpass" PGPASSWORD=not-the-password run --separate-stderr \
    psql -X -At "host=127.0.0.1 port=$MIG_PG_PORT user=mig dbname=postgres" -c 'SELECT 1'
  assert_failure 2
  assert_output ""
  [[ $stderr == *'password authentication failed for user "mig"'* ]]
}

@test "the server refuses TCP connections without a password" {
  require_pg
  run --separate-stderr env -u PGPASSWORD PGPASSFILE="$BATS_TEST_TMPDIR/no-pgpass" \
    psql -X -At "host=127.0.0.1 port=$MIG_PG_PORT user=mig dbname=postgres" -c 'SELECT 1'
  assert_failure 2
  assert_output ""
  [[ $stderr == *"no password supplied"* ]]
}

@test "a URL from pg_new_db connects over TCP as it is" {
  require_pg
  url=$(pg_new_db)
  [[ $url == "postgresql://mig:$MIG_PG_PASSWORD@127.0.0.1:$MIG_PG_PORT/t_"* ]]
  run --separate-stderr env -u PGPASSWORD PGPASSFILE="$BATS_TEST_TMPDIR/no-pgpass" \
    psql -X -At "$url" -c 'SELECT current_database()'
  assert_success
  assert_output "${url##*/}"
}

@test "pg_new_db gives distinct empty databases" {
  require_pg
  a=$(pg_new_db)
  b=$(pg_new_db)
  refute [ "$a" = "$b" ]
  assert_equal "$(count_tables "$a")" 0
  assert_equal "$(count_tables "$b")" 0
  assert_equal "$(pg_tables "$a")" ""
  assert_equal "$(version_rows "$a")" ""
  pg_sql "$a" "CREATE TABLE agents (id varchar(36) PRIMARY KEY)"
  assert_equal "$(count_tables "$a")" 1
  assert_equal "$(count_tables "$b")" 0
}

@test "pg_sql prints rows and fails on an SQL error" {
  require_pg
  url=$(pg_new_db)
  run --separate-stderr pg_sql "$url" "SELECT 1, 'x' UNION ALL SELECT 2, 'y' ORDER BY 1"
  assert_success
  assert_output $'1|x\n2|y'
  run --separate-stderr pg_sql "$url" "SELECT * FROM no_such_table"
  assert_failure 3
  assert_output ""
  [[ $stderr == *'relation "no_such_table" does not exist'* ]]
}

@test "count_tables, pg_tables and version_rows read a PostgreSQL database" {
  require_pg
  url=$(pg_new_db)
  pg_sql "$url" "
    CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
      CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
    INSERT INTO alembic_version VALUES ('e173b895ecb0'), ('b07a366647c3');
    CREATE TABLE users (id integer PRIMARY KEY);
    CREATE TABLE agents (id integer PRIMARY KEY);
    CREATE VIEW v_users AS SELECT id FROM users;
    CREATE SCHEMA audit;
    CREATE TABLE audit.events (id integer)"
  assert_equal "$(count_tables "$url")" 3
  assert_equal "$(pg_tables "$url")" $'agents\nalembic_version\naudit.events\nusers'
  assert_equal "$(version_rows "$url")" "b07a366647c3 e173b895ecb0"
}

@test "sqlite_sql and count_tables work on a scratch SQLite file" {
  db="$BATS_TEST_TMPDIR/scratch.db"
  assert_equal "$(count_tables "$db")" 0
  sqlite_sql "$db" "
    CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
    CREATE TABLE agents (id VARCHAR(36) PRIMARY KEY);
    CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
      CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
    INSERT INTO users (name) VALUES ('ann'), ('bob');"
  run --separate-stderr sqlite_sql "$db" "SELECT id, name FROM users ORDER BY id"
  assert_success
  assert_output $'1|ann\n2|bob'
  assert_equal "$(count_tables "$db")" 2
  assert_equal "$(count_tables "$(sqlite_url "$db")")" 2
  assert_equal "$(sqlite_tables "$db")" $'agents\nalembic_version\nsqlite_sequence\nusers'
}

@test "sqlite_sql fails on an SQL error" {
  db="$BATS_TEST_TMPDIR/scratch.db"
  run --separate-stderr sqlite_sql "$db" "SELECT * FROM no_such_table"
  assert_failure 1
  assert_output ""
  [[ $stderr == *"no such table: no_such_table"* ]]
}

@test "version_rows is empty without alembic_version and sorted with it on SQLite" {
  db="$BATS_TEST_TMPDIR/v.db"
  sqlite_sql "$db" "CREATE TABLE users (id INTEGER PRIMARY KEY)"
  assert_equal "$(version_rows "$db")" ""
  sqlite_sql "$db" "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
  assert_equal "$(version_rows "$db")" ""
  sqlite_sql "$db" "INSERT INTO alembic_version VALUES ('e173b895ecb0'), ('b07a366647c3')"
  assert_equal "$(version_rows "$(sqlite_url "$db")")" "b07a366647c3 e173b895ecb0"
}

@test "sqlite_url makes an absolute four-slash URL" {
  cd "$BATS_TEST_TMPDIR"
  assert_equal "$(sqlite_url /srv/app.db)" "sqlite:////srv/app.db"
  assert_equal "$(sqlite_url app.db)" "sqlite:///$BATS_TEST_TMPDIR/app.db"
}

@test "the mig programs come first on PATH and fixtures live under test/fixtures" {
  [[ $PATH == "${MIG_BIN:-$REPO/bin}:"* ]]
  assert_equal "$(fixture legacy)" "$REPO/test/fixtures/legacy"
  assert [ -f "$REPO/test/test_helper/common.bash" ]
  make_migrations "$BATS_TEST_TMPDIR/m"
  assert [ -d "$BATS_TEST_TMPDIR/m/versions" ]
}

@test "the runner exports the sandbox directory with its env file" {
  require_pg
  assert [ -f "$MIG_TEST_PG_DIR/env" ]
  assert [ -S "$MIG_PG_HOST/.s.PGSQL.$MIG_PG_PORT" ]
}

@test "pg_new_db in a command substitution fails with a hint when there is no sandbox" {
  unset MIG_PG_PORT
  run --separate-stderr pg_new_db
  assert_failure 1
  assert_output ""
  [[ $stderr == *"call require_pg first"* ]]
}

@test "use_sanitizer_build puts the sanitizer build first on PATH, where a leak exits 86" {
  [[ -n ${MIG_ASAN_BIN:-} ]] || skip "MIG_ASAN_BIN is not set (make test sets it)"
  use_sanitizer_build
  assert_equal "$(type -P mig-upgrade)" "$MIG_ASAN_BIN/mig-upgrade"
  # A program built as `make asan` builds, with the options test/run.sh sets.
  printf '%s\n' '#include <stdlib.h>' '#include <string.h>' \
    'int main(void) { char *p = malloc(8); strcpy(p, "leak"); return p[0] == 0; }' \
    >"$BATS_TEST_TMPDIR/leak.c"
  cc -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
    -o "$BATS_TEST_TMPDIR/leak" "$BATS_TEST_TMPDIR/leak.c"
  run --separate-stderr "$BATS_TEST_TMPDIR/leak"
  assert_failure 86
  [[ $stderr == *"ERROR: LeakSanitizer: detected memory leaks"* ]] || fail "no leak report: $stderr"
}
