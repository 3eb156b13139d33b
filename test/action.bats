#!/usr/bin/env bats
# action.bats: the GitHub Actions action.yml and verify/action.yml as another
# team uses them. A separate temporary consumer repository, with its own
# migrations and the mig release tarball vendored at vendor/mig, runs a
# workflow that uses both actions by path; scripts/run-workflow.sh runs its
# job, the actions' steps included: the build from the action's source, the
# cache (--cache), the outputs, the job summary and the annotations.

load test_helper/common

setup() {
  version=$(sed -n 's/^#define MIG_VERSION "\(.*\)"$/\1/p' "$REPO/tools/lib/mig.h")
  consumer=$BATS_TEST_TMPDIR/consumer
  mkdir -p "$consumer/migrations/versions" "$consumer/vendor" "$consumer/.github/workflows"
  run make -C "$REPO" dist DISTDIR="$BATS_TEST_TMPDIR"
  assert_success
  tar -xzf "$BATS_TEST_TMPDIR/mig-$version.tar.gz" -C "$consumer/vendor"
  mv "$consumer/vendor/mig-$version" "$consumer/vendor/mig"

  cat >"$consumer/migrations/versions/1a2b3c4d5e6f_accounts.sql" <<'SQL'
-- revision: 1a2b3c4d5e6f
-- down_revision: none
-- message: accounts

-- +upgrade
CREATE TABLE accounts (id INTEGER NOT NULL, name VARCHAR(80) NOT NULL, PRIMARY KEY (id));

-- +downgrade
DROP TABLE accounts;
SQL
  cat >"$consumer/migrations/versions/2b3c4d5e6f7a_invoices.sql" <<'SQL'
-- revision: 2b3c4d5e6f7a
-- down_revision: 1a2b3c4d5e6f
-- message: invoices

-- +upgrade
CREATE TABLE invoices (
    id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    total NUMERIC(12, 2) NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE INDEX ix_invoices_account_id ON invoices (account_id);

-- +downgrade
DROP TABLE invoices;
SQL
  # The consumer's spec, as the README tells a team to make it.
  mig-verify -m "$consumer/migrations" --keep "$BATS_TEST_TMPDIR/head.db" >/dev/null
  mig-check-schema -d "sqlite:///$BATS_TEST_TMPDIR/head.db" --dump >"$consumer/migrations/schema.yaml"

  cat >"$consumer/.github/workflows/db.yml" <<'YAML'
name: db
on: [push]
jobs:
  migrations:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: mig
        uses: ./vendor/mig
        with:
          version-check: ${{ env.WANT_VERSION }}
          run: ${{ env.MIG_RUN }}
      - id: verify
        uses: ./vendor/mig/verify
        with:
          expect-tables: 2
          spec: migrations/schema.yaml
          database-url: ${{ env.VERIFY_URL }}
      - name: Report
        run: |
          echo "version=${{ steps.mig.outputs.version }}"
          echo "upgraded to=${{ steps.mig.outputs.revision }}"
          echo "head=${{ steps.verify.outputs.head }} tables=${{ steps.verify.outputs.tables }}"
          echo "mig-verify from $(command -v mig-verify)"
YAML
  # Shared by the tests of this file: the build is made once (the first test
  # makes its own, to see the cache miss and hit).
  cache=$BATS_FILE_TMPDIR/cache
}

# consumer_job [OPTIONS...]: the consumer's job, summary in $summary.
consumer_job() {
  summary=$BATS_TEST_TMPDIR/summary.md
  run --separate-stderr env -C "$consumer" "$REPO/scripts/run-workflow.sh" --cache "$cache" \
    --summary "$summary" "$@" .github/workflows/db.yml migrations
}

@test "a consumer uses both actions by path: built from source, outputs, summary and annotation; the second run restores the cache" {
  cache=$BATS_TEST_TMPDIR/cache
  consumer_job --env WANT_VERSION="${version%.*}" --env VERIFY_URL= --env MIG_RUN='mig-upgrade -d sqlite:///app.db'
  assert_success
  assert_line "==> [2/4] ./vendor/mig / Build mig"
  assert_line "mig-action: building mig from $consumer/vendor/mig"
  assert_line --regexp "^==> \[2/4\] \./vendor/mig / Restore the build: no cache mig-Linux-X64-[^ ]+ yet; saved after a successful job$"
  assert_line --regexp "^post: actions/cache saved mig-Linux-X64-"
  # The verify action reuses the build the first action made in this job.
  assert_line --regexp "^mig-action: reusing the build in .*/runner-temp/mig "
  # Outputs of the action, of the program its run: ran, of the verify action.
  assert_line "version=$version"
  assert_line "upgraded to=2b3c4d5e6f7a"
  assert_line "head=2b3c4d5e6f7a tables=2"
  assert_line --regexp "^mig-verify from .*/runner-temp/mig/bin/mig-verify$"
  assert_line "check: the schema matches migrations/schema.yaml (strict): ok"
  assert_line "round trip: 2 revisions up, down and up again: ok"
  assert_line "::notice title=mig verify::migrations verified on a clean SQLite database: head 2b3c4d5e6f7a"
  assert_line "job migrations: success"
  grep -qx "## mig-verify: migrations on a clean SQLite database" "$summary"
  grep -qx "### mig-verify: ok" "$summary"
  # run: upgraded the consumer's own database
  run sqlite3 "$consumer/app.db" "SELECT version_num FROM alembic_version"
  assert_output "2b3c4d5e6f7a"

  rm -f "$consumer/app.db"
  consumer_job --env WANT_VERSION="$version" --env VERIFY_URL= --env MIG_RUN='mig-upgrade -d sqlite:///app.db'
  assert_success
  assert_line --regexp "^==> \[2/4\] \./vendor/mig / Restore the build: restored the cache mig-Linux-X64-"
  refute_line --partial "building mig"
  assert_line "head=2b3c4d5e6f7a tables=2"
}

@test "the verify action on PostgreSQL (database-url): outputs, and the database holds the head" {
  require_pg
  url=$(pg_new_db)
  consumer_job --env WANT_VERSION= --env VERIFY_URL="$url" --env MIG_RUN=
  assert_line "==> [2/4] ./vendor/mig / Run mig: skipped (if: inputs.run != '' is false)"
  assert_success
  assert_line "head=2b3c4d5e6f7a tables=2"
  assert_line "::notice title=mig verify::migrations verified on postgresql: head 2b3c4d5e6f7a"
  grep -qx "## mig-verify: migrations on postgresql" "$summary"
  run pg_sql "$url" "SELECT version_num FROM alembic_version"
  assert_output "2b3c4d5e6f7a"
  # the password of the URL is in no line of the log
  pass=$(sed -n 's|^postgresql://[^:]*:\([^@]*\)@.*|\1|p' <<<"$url")
  if [[ -n $pass ]]; then refute_output --partial "$pass"; fi
}

@test "a broken consumer migration fails the verify action with an annotation at its file and line" {
  sed -i 's/^-- down_revision: 1a2b3c4d5e6f$/-- down_revision: 0f0f0f0f0f0f/' \
    "$consumer/migrations/versions/2b3c4d5e6f7a_invoices.sql"
  consumer_job --env WANT_VERSION= --env VERIFY_URL= --env MIG_RUN=
  assert_failure 1
  assert_line --regexp "^::error file=migrations/versions/2b3c4d5e6f7a_invoices\.sql,line=2,title=mig missing-revision::down_revision '0f0f0f0f0f0f' of '2b3c4d5e6f7a' names no revision"
  assert_line "mig-verify failed on a clean SQLite database (exit 1); the annotations and the job summary say why"
  assert_equal "$(grep -c '^::error' <<<"$output")" 1
  assert_line "==> [3/4] ./vendor/mig/verify: failed (a step of the action failed)"
  assert_line "==> [4/4] Report: skipped (an earlier step failed)"
  assert_line "job migrations: failure (failed: ./vendor/mig/verify)"
  grep -qx "### mig-verify: failed" "$summary"
}

@test "version-check that the built mig does not meet fails the job before anything runs" {
  consumer_job --env WANT_VERSION=9.9 --env VERIFY_URL= --env MIG_RUN='mig-upgrade -d sqlite:///app.db'
  assert_failure 1
  assert_line "::error title=mig::version-check: mig is $version here, not 9.9"
  assert_line --regexp '^==> \[2/4\] \./vendor/mig / Run mig: skipped '
  refute_line --partial "upgrading"
  assert_line "job migrations: failure (failed: ./vendor/mig)"
  assert [ ! -e "$consumer/app.db" ]
}

@test "run: refuses a command line that is not a mig program" {
  consumer_job --env WANT_VERSION= --env VERIFY_URL= --env MIG_RUN='touch pwned'
  assert_failure 1
  assert_line "::error title=mig::run: 'touch' is not a mig program (mig-upgrade, mig-status, mig-verify, ...)"
  assert_line "==> [2/4] ./vendor/mig / Run mig: failed (exit 2)"
  assert [ ! -e "$consumer/pwned" ]
}
