#!/usr/bin/env bats
# bench.bats: `make bench` works (scripts/bench.sh in quick mode: small sizes,
# one run per side). It proves the script, the generators and the peer's
# project; it asserts no timing.

load test_helper/common
load test_helper/alembic

setup_file() {
  # One quick bench for the whole file: it starts its own PostgreSQL and
  # runs every job once, which takes about a minute.
  export BENCH_TEST_DIR="$BATS_FILE_TMPDIR"
  if env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV -u PYENV_VERSION \
    /usr/bin/python3 -c 'import alembic, sqlalchemy, psycopg2' 2>/dev/null; then
    local rc=0
    BENCH_QUICK=1 BENCH_OUT="$BENCH_TEST_DIR/BENCH.md" MIG_BIN="${MIG_BIN:-$REPO/bin}" \
      "$REPO/scripts/bench.sh" >"$BENCH_TEST_DIR/stdout" 2>"$BENCH_TEST_DIR/stderr" || rc=$?
    echo "$rc" >"$BENCH_TEST_DIR/rc"
  fi
}

require_bench() {
  require_alembic
  [[ -f $BENCH_TEST_DIR/rc ]] || skip "the quick bench did not run"
}

@test "the quick bench exits 0 and prints one table" {
  require_bench
  run cat "$BENCH_TEST_DIR/rc"
  assert_output 0
  run grep -c "^| job | rounds | mig | dbmate | Alembic | floor | dbmate/mig | Alembic/mig | mig/floor | client CPU" "$BENCH_TEST_DIR/stdout"
  assert_output 1
}

@test "the table has a row for every job of issue 8" {
  require_bench
  for label in "1. CI job, clean SQLite" "1. CI job, as above + --spec" \
    "2. fresh PostgreSQL install" "3. stamp legacy PostgreSQL" "3. stamp, mig-stamp --spec" \
    "4. introspect 20 tables" "5. lint 20-revision chain" "5. lint 200-revision chain" \
    "5. lint 100 revisions, 5 merges" "5. apply 20-revision chain" \
    "6. probe: mig-status --check" "6. probe, over the unix socket" \
    "7. apply 10 migrations, SQLite" "7. apply 100 migrations, SQLite" \
    "7. apply 10 migrations, PostgreSQL" "7. apply 100 migrations, PostgreSQL" \
    "8. dump the schema" "9. wait for a server that is up"; do
    grep -qF "| $label" "$BENCH_TEST_DIR/stdout" || fail "no row '$label' in the table"
  done
}

@test "every row of jobs 1 to 6 has a time for mig and for the peer, and every target a verdict" {
  require_bench
  local rows
  rows=$(grep '^| [1-6]\.' "$BENCH_TEST_DIR/stdout")
  assert_equal "$(wc -l <<<"$rows")" 12
  while IFS="|" read -r _ _label _rounds mig _dbmate peer _floor _ ratio _ _cpu targets _; do
    [[ $mig =~ [0-9.]+\ (ms|s)\ \( ]] || fail "no time for mig in: $_label"
    [[ $peer =~ [0-9.]+\ (ms|s)\ \( ]] || fail "no time for the peer in: $_label"
    [[ $ratio == *×* ]] || fail "no ratio in: $_label"
    [[ $targets == *-* || $targets == *✓* || $targets == *✗* ]] || fail "no verdict in: $_label"
  done <<<"$rows"
}

@test "dbmate runs beside mig on every job it can do: apply on both dialects, status, dump and wait" {
  require_bench
  local rows
  rows=$(grep -e '^| [1279]\.' -e '^| 5\. apply' -e '^| 6\. probe: ' -e '^| 8\.' "$BENCH_TEST_DIR/stdout" | grep -v 'as above')
  assert_equal "$(wc -l <<<"$rows")" 10
  while IFS="|" read -r _ _label _rounds mig dbmate _peer floor ratio _; do
    [[ $mig =~ [0-9.]+\ (ms|s)\ \( ]] || fail "no time for mig in: $_label"
    [[ $dbmate =~ [0-9.]+\ (ms|s)\ \( ]] || fail "no time for dbmate in: $_label"
    [[ $floor =~ [0-9.]+\ (ms|s)\ \( ]] || fail "no time for the floor in: $_label"
    [[ $ratio == *×* ]] || fail "no dbmate/mig ratio in: $_label"
  done <<<"$rows"
}

@test "the growth rows print an exponent for mig, dbmate and the floor on both dialects" {
  require_bench
  run grep -c -E '^\| 7\. apply 100 migrations, (SQLite|PostgreSQL).*growth exponents \(10 100\): mig [0-9.]+, dbmate [0-9.]+, floor [0-9.]+ \|$' "$BENCH_TEST_DIR/stdout"
  assert_output 2
}

@test "the PostgreSQL jobs report the statements each side sent" {
  require_bench
  run grep -E '^\| 4\. introspect' "$BENCH_TEST_DIR/stdout"
  assert_success
  # mig's catalog queries do not depend on the number of tables; the peer's do.
  [[ $output =~ statements:\ mig\ ([0-9]+),\ peer\ ([0-9]+) ]] || fail "no statement counts: $output"
  (( BASH_REMATCH[1] > 0 && BASH_REMATCH[2] > BASH_REMATCH[1] ))
}

@test "a big data migration's peak RSS is measured for mig on both dialects and for psql -f" {
  require_bench
  run grep -E '^A data migration of [0-9.]+ MB \(job 7, .*: mig on PostgreSQL [0-9.]+ MB, [0-9.]+ s; psql -1 -f [0-9.]+ MB, [0-9.]+ s; mig on SQLite [0-9.]+ MB, [0-9.]+ s\.$' "$BENCH_TEST_DIR/stdout"
  assert_success
}

@test "the quick bench writes BENCH_OUT between the markers and stops its PostgreSQL" {
  require_bench
  run grep -c -e '^<!-- bench:begin' -e '^<!-- bench:end' "$BENCH_TEST_DIR/BENCH.md"
  assert_output 2
  grep -q '^| 6\. probe' "$BENCH_TEST_DIR/BENCH.md"
  grep -q '^- Machine: ' "$BENCH_TEST_DIR/BENCH.md"
  # The sandbox directory is named on stderr; it must be gone.
  dir=$(sed -n 's/^bench: starting PostgreSQL in //p' "$BENCH_TEST_DIR/stderr")
  [[ -n $dir ]]
  [[ ! -e $dir ]]
}

@test "bench.sh is clean under shellcheck" {
  command -v shellcheck >/dev/null || skip "shellcheck is not installed"
  run shellcheck "$REPO/scripts/bench.sh"
  assert_success
}
