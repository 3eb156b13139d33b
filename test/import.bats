#!/usr/bin/env bats
# import.bats: mig-import converts the Alembic project test/fixtures/import_alembic
# (written for these tests) into mig files, on SQLite and PostgreSQL, and proves
# them; then mig-upgrade builds a database Alembic itself reads as at head.
#
# The fixture's graph (branch label billing; b20 depends_on 4d0):
#
#   1a0 ── 2b0 ─┬─ 3c0 (batch) ── 4d0 (CONCURRENTLY) ── 5e0 (data) ── 6f0 (inspector) ─┬─ c90 (merge)
#               └─ b10 (billing) ── b20 (depends_on 4d0) ──────────────────────────────┘
#
# Every mig-import run starts Debian's Python (it has Alembic; the first
# python3 on PATH may not) once per revision and direction.

load test_helper/common
load test_helper/alembic

HEAD=c90c0e0f0009
INSPECTOR=6f0c0e0f0006
CONCURRENT=4d0c0e0f0004

setup() {
	require_alembic
	ini=$(fixture import_alembic)/alembic.ini
	out=$BATS_TEST_TMPDIR/migs
}

# import ARGS...: mig-import on the fixture with Debian's Python.
import() {
	mig-import --alembic-ini "$ini" --python "$ALEMBIC_PYTHON" "$@"
}

# alembic_current URL: the revisions `alembic current` reports, sorted, on one line.
alembic_current() {
	_alembic_env "$ALEMBIC_PYTHON" -m alembic -c "$ini" -x "url=$1" current 2>/dev/null |
		awk '{print $1}' | sort | xargs
}

# file_of REV: the imported file of REV.
file_of() {
	echo "$out"/versions/"$1"_*.sql
}

# The fixture converted and proved on DIALECTS ("sqlite" or both), then a fresh
# database built from the files is at head for Alembic too.
import_and_upgrade() {
	local scratch=() db
	if [[ $1 == both ]]; then
		scratch=(--scratch-url "$(pg_new_db)")
	fi
	run --separate-stderr import -m "$out" "${scratch[@]}"
	assert_success
	# 9 revisions, each applied and reverted, per dialect: all identical.
	local dialects=1
	[[ $1 == both ]] && dialects=2
	assert_equal "$(grep -cE '^[0-9a-f]{12} +(sqlite|postgresql) +(upgrade|downgrade) +[0-9]+ +yes$' <<<"$output")" $((18 * dialects))
	refute_output --regexp ' NO$'
	assert_output --partial "imported 9 revisions into $out/versions with the project's env.py; identical at all $((18 * dialects)) steps"
	# The report names the inspector revision and the one outside a transaction.
	assert_output --regexp "review: [^ ]*${INSPECTOR}[^ ]*: $INSPECTOR read the database"
	assert_output --regexp "review: [^ ]*${CONCURRENT}[^ ]*: $CONCURRENT runs outside a transaction"
	assert_equal "$(ls "$out/versions" | wc -l)" 9

	if [[ $1 == both ]]; then
		db=$(pg_new_db)
		# The scratch database is left as it was given: empty (no version
		# table, no mig_history, nothing).
		assert_equal "$(pg_tables "${scratch[1]}")" ""
	else
		db=$(sqlite_url "$BATS_TEST_TMPDIR/fresh.db")
	fi
	run --separate-stderr mig-upgrade -d "$db" -m "$out"
	assert_success
	assert_equal "$(version_rows "$db")" "$HEAD"
	assert_equal "$(alembic_current "$db")" "$HEAD"
	# And Alembic takes it back down to base from there.
	run _alembic_env "$ALEMBIC_PYTHON" -m alembic -c "$ini" -x "url=$db" downgrade base
	assert_success
	assert_equal "$(count_tables "$db")" 0
}

@test "the fixture imports on SQLite, the proof passes at every step, mig-upgrade reaches head and alembic current agrees" {
	import_and_upgrade sqlite
}

@test "the fixture imports on SQLite and PostgreSQL, the proof passes at every step, and alembic current agrees on a mig-built PostgreSQL database" {
	require_pg
	import_and_upgrade both
	# Same statements on both dialects share a section; the others are the dialect's own.
	run cat "$(file_of 2b0c0e0f0002)"
	assert_output --partial $'-- +upgrade\nCREATE TABLE memberships ('
	assert_output --partial $'ALTER TABLE users ADD COLUMN display_name VARCHAR(80);\n'
	# users.id is SERIAL on PostgreSQL only.
	run cat "$(file_of 1a0c0e0f0001)"
	assert_output --regexp $'-- \\+upgrade postgresql\nCREATE TABLE users \\(\n\tid SERIAL NOT NULL'
	assert_output --regexp $'-- \\+upgrade sqlite\nCREATE TABLE users \\(\n\tid INTEGER NOT NULL'
	run grep -A1 '^-- +upgrade postgresql$' "$(file_of $CONCURRENT)"
	assert_output --partial 'CREATE INDEX CONCURRENTLY ix_users_display_name ON users (display_name);'
	run grep -A1 '^-- +upgrade sqlite$' "$(file_of $CONCURRENT)"
	assert_output --partial 'CREATE INDEX ix_users_display_name ON users (display_name);'
}

@test "the files keep each revision's graph, message and create date" {
	run --separate-stderr import -m "$out"
	assert_success
	run head -n 6 "$(file_of $HEAD)"
	assert_line -n 0 "-- revision: $HEAD"
	assert_line -n 1 "-- down_revision: 6f0c0e0f0006, b20c0e0f0008"
	assert_line -n 2 "-- message: merge billing into the main line"
	assert_line -n 3 "-- create_date: 2026-01-13 10:00:00.000000"
	run grep -E '^-- (branch_labels|down_revision):' "$(file_of b10c0e0f0007)"
	assert_output $'-- down_revision: 2b0c0e0f0002\n-- branch_labels: billing'
	run grep '^-- depends_on:' "$(file_of b20c0e0f0008)"
	assert_output "-- depends_on: 4d0c0e0f0004"
	run grep '^-- transactional:' "$(file_of $CONCURRENT)"
	assert_output "-- transactional: false"
	# The inspector revision says so in its header; the version table is mig's.
	run grep -c '^-- REVIEW: this revision read the database' "$(file_of $INSPECTOR)"
	assert_output 1
	run grep -il 'alembic_version' "$out"/versions/*.sql
	assert_failure
	# mig's own CI job accepts the result, mig.sum included.
	[[ -f $out/mig.sum ]] || fail "no $out/mig.sum"
	run mig-verify -m "$out" --roundtrip --require-sum
	assert_success
}

@test "the data migration keeps its values, rendered by the database's own quoting" {
	run --separate-stderr import -m "$out"
	assert_success
	run grep -F "INSERT INTO teams (id, name) VALUES (1, 'everyone''s team');" "$(file_of 5e0c0e0f0005)"
	assert_success
	db=$BATS_TEST_TMPDIR/data.db
	mig-upgrade -d "$(sqlite_url "$db")" -m "$out" -q
	assert_equal "$(sqlite_sql "$db" 'SELECT name FROM teams')" "everyone's team"
}

@test "--dialect postgresql writes PostgreSQL sections only" {
	require_pg
	run --separate-stderr import -m "$out" --dialect postgresql --scratch-url "$(pg_new_db)"
	assert_success
	run grep -h '^-- +' "$out"/versions/*.sql
	refute_output --partial sqlite
	assert_line -- "-- +upgrade postgresql"
	refute_output --regexp 'sqlite +upgrade'
}

@test "--format json gives the same table and the review flags" {
	run --separate-stderr import -m "$out" --format json
	assert_success
	assert_equal "$(jq -c '[.format, .ok, (.steps | length), ([.steps[] | select(.identical | not)] | length)]' <<<"$output")" '[1,true,18,0]'
	assert_equal "$(jq -r ".revisions[] | select(.revision == \"$INSPECTOR\") | .read_database" <<<"$output")" true
	assert_equal "$(jq -r ".revisions[] | select(.revision == \"$CONCURRENT\") | .autocommit" <<<"$output")" true
	assert_equal "$(jq -r ".revisions[] | select(.revision == \"1a0c0e0f0001\") | .read_database" <<<"$output")" false
}

@test "a project without env.py is run with a minimal one, and the report says so" {
	proj=$BATS_TEST_TMPDIR/proj
	cp -r "$(fixture import_alembic)" "$proj"
	rm "$proj/env.py" "$proj/alembic.ini"
	run --separate-stderr mig-import --scripts "$proj" -m "$out" --python "$ALEMBIC_PYTHON"
	assert_success
	assert_output --partial "with a minimal env.py (the project has none); identical at all 18 steps"
}

@test "a history with a dangling down_revision is refused with the finding and its fix, and nothing is written" {
	run --separate-stderr mig-import --scripts "$(fixture import_broken)" -m "$out" --python "$ALEMBIC_PYTHON"
	assert_failure 1
	assert_output --partial "0a1b2c3d4e02_second.py:10: error: down_revision '0a1b2c3d4e99' of '0a1b2c3d4e02' names no revision"
	assert_output --partial "hint:"
	assert_equal "$stderr" "mig-import: $(fixture import_broken): the history has errors; nothing was written"
	[[ ! -e $out ]]
}

@test "mig-import --check catches an imported file that was edited: exit 1 with the difference" {
	run --separate-stderr import -m "$out"
	assert_success
	f=$(file_of 1a0c0e0f0001)
	sed -i 's/name VARCHAR(60) NOT NULL/name VARCHAR(61) NOT NULL/' "$f"
	before=$(cat "$out"/versions/*.sql | sha256sum)
	run --separate-stderr import --check "$out"
	assert_failure 1
	assert_line --regexp '^1a0c0e0f0001 +sqlite +upgrade +2 +NO$'
	# Back at base both databases are empty again: the last step is identical.
	assert_line --regexp '^1a0c0e0f0001 +sqlite +downgrade +2 +yes$'
	assert_output --regexp 'sqlite, after upgrade to 1a0c0e0f0001: .*teams.*name'
	assert_equal "$stderr" "mig-import: the proof found 17 differences"
	# --check writes nothing.
	assert_equal "$(cat "$out"/versions/*.sql | sha256sum)" "$before"
	# The untouched import proves clean.
	sed -i 's/name VARCHAR(61) NOT NULL/name VARCHAR(60) NOT NULL/' "$f"
	run --separate-stderr import --check "$out"
	assert_success
	assert_output --partial "proved 9 revisions into $out/versions"
}

@test "mig-import --check catches a dropped statement in a downgrade" {
	run --separate-stderr import -m "$out"
	assert_success
	f=$(file_of $INSPECTOR)
	sed -i '/^-- +downgrade/,$d' "$f"
	printf '\n-- +downgrade\n' >>"$f"
	run --separate-stderr import --check "$out"
	assert_failure 1
	assert_line --regexp "^$INSPECTOR +sqlite +downgrade +1 +NO$"
	assert_line --regexp "^$INSPECTOR +sqlite +upgrade +2 +yes$"
	assert_output --partial "sqlite, after downgrade of $INSPECTOR:"
}

@test "no Python: exit 2, what to install, nothing written" {
	run --separate-stderr mig-import --alembic-ini "$ini" -m "$out" --python "$BATS_TEST_TMPDIR/no-such-python"
	assert_failure 2
	assert_output ""
	[[ $stderr == "mig-import: cannot run $BATS_TEST_TMPDIR/no-such-python: not found or not executable"* ]]
	[[ $stderr == *"apt-get install python3 python3-alembic"* ]]
	[[ ! -e $out ]]
}

@test "a Python without Alembic: exit 2, what to install, nothing written" {
	# Debian's Python without its site packages: a real Python with no Alembic.
	bare=$BATS_TEST_TMPDIR/bare-python
	printf '#!/bin/sh\nexec %s -S "$@"\n' "$ALEMBIC_PYTHON" >"$bare"
	chmod +x "$bare"
	run --separate-stderr mig-import --alembic-ini "$ini" -m "$out" --python "$bare"
	assert_failure 2
	[[ $stderr == "mig-import: no Alembic in $bare: cannot import "* ]]
	[[ $stderr == *"apt-get install python3-alembic"* ]]
	[[ ! -e $out ]]
}

@test "a non-empty scratch database is refused (exit 4) and left alone; nothing written" {
	require_pg
	scratch=$(pg_new_db)
	pg_sql "$scratch" "CREATE TABLE precious (id integer); INSERT INTO precious VALUES (7)" >/dev/null
	run --separate-stderr import -m "$out" --scratch-url "$scratch"
	assert_failure 4
	[[ $stderr == *"is not empty (tables: precious)"* ]]
	assert_equal "$(pg_sql "$scratch" 'SELECT id FROM precious')" 7
	assert_equal "$(pg_tables "$scratch")" precious
	[[ ! -e $out ]]
}

@test "the scratch URL's password is never printed" {
	require_pg
	scratch=$(pg_new_db)
	pg_sql "$scratch" "CREATE TABLE precious (id integer)" >/dev/null
	url=${scratch/:\/\//://postgres:s3cr3t-pw@}
	run --separate-stderr import -m "$out" --scratch-url "$url"
	refute_output --partial s3cr3t-pw
	[[ $stderr != *s3cr3t-pw* ]]
}

@test "an output folder that already holds migrations is refused (exit 4) unless --force" {
	mkdir -p "$out/versions"
	echo "-- revision: keepme" >"$out/versions/keepme.sql"
	run --separate-stderr import -m "$out"
	assert_failure 4
	[[ $stderr == *"$out/versions already holds 1 migration file (keepme.sql, ...); nothing was written"* ]]
	assert_equal "$(ls "$out/versions")" keepme.sql
	assert_equal "$(cat "$out/versions/keepme.sql")" "-- revision: keepme"
	rm "$out/versions/keepme.sql"
	echo "-- revision: 1a0c0e0f0001" >"$out/versions/1a0c0e0f0001_create_users_and_teams.sql"
	run --separate-stderr import -m "$out" --force
	assert_success
	assert_equal "$(ls "$out/versions" | wc -l)" 9
}

@test "usage: one of --alembic-ini and --scripts, a known --dialect, PostgreSQL needs a scratch URL, no -d" {
	run --separate-stderr mig-import -m "$out"
	assert_failure 2
	run --separate-stderr mig-import --alembic-ini "$ini" --dialect mysql
	assert_failure 2
	[[ $stderr == *"--dialect: expected sqlite or postgresql, not 'mysql'"* ]]
	run --separate-stderr env -u MIG_IMPORT_SCRATCH_URL mig-import --alembic-ini "$ini" --dialect postgresql
	assert_failure 2
	[[ $stderr == *"--dialect postgresql needs --scratch-url URL"* ]]
	run --separate-stderr mig-import --alembic-ini "$ini" -d sqlite:///x.db
	assert_failure 2
	# Flags about a database's lock mean nothing to scratch databases.
	run --separate-stderr mig-import --alembic-ini "$ini" --wait 5
	assert_failure 2
	[[ $stderr == "mig-import: --wait: mig-import records on scratch databases only"* ]]
	run --separate-stderr mig-import --alembic-ini "$ini" --lock-timeout 5
	assert_failure 2
	[[ $stderr == "mig-import: --lock-timeout: mig-import records on scratch databases only"* ]]
	run --separate-stderr mig-import --alembic-ini "$ini" --version-table ''
	assert_failure 2
	[[ ! -e $out ]]
}

@test "an env.py that connects to another database is stopped before Alembic touches it; a minimal one is used" {
	proj=$BATS_TEST_TMPDIR/proj
	cp -r "$(fixture import_alembic)" "$proj"
	prod=$BATS_TEST_TMPDIR/prod.db
	sqlite_sql "$prod" "CREATE TABLE customers (id INTEGER PRIMARY KEY); INSERT INTO customers VALUES (42)"
	before=$(sha256sum <"$prod")
	cat >"$proj/env.py" <<PY
from alembic import context
from sqlalchemy import create_engine

# Ignores the configured URL: always the "production" database.
engine = create_engine("sqlite:///$prod")
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
PY
	run --separate-stderr mig-import --alembic-ini "$proj/alembic.ini" -m "$out" --python "$ALEMBIC_PYTHON"
	assert_success
	assert_output --partial "with a minimal env.py (the project's failed: EnvRefused: env.py connects to another database than the scratch one); identical at all 18 steps"
	assert_equal "$(sha256sum <"$prod")" "$before"
	assert_equal "$(sqlite_tables "$prod")" customers
}

# import_raising DIALECTS: the fixture with test/fixtures/import_raises laid
# over it (d10, a new head, raises in its upgrade after creating a table; 5e0
# raises in its downgrade), imported on "sqlite" or "both".
import_raising() {
	proj=$BATS_TEST_TMPDIR/proj
	cp -r "$(fixture import_alembic)" "$proj"
	cp "$(fixture import_raises)"/versions/*.py "$proj/versions/"
	scratch=()
	[[ $1 == both ]] && scratch=(--scratch-url "$(pg_new_db)")
	run --separate-stderr mig-import --alembic-ini "$proj/alembic.ini" -m "$out" \
		--python "$ALEMBIC_PYTHON" "${scratch[@]}"
	assert_failure 1
	assert_equal "$stderr" "mig-import: 2 revisions are unfinished (the 'unfinished:' lines say why): finish them by hand"
	# Every revision is written; only the two that raised are marked.
	assert_equal "$(ls "$out/versions"/*.sql | wc -l)" 10
	assert_equal "$(grep -l '^-- unfinished:' "$out"/versions/*.sql)" \
		"$(file_of 5e0c0e0f0005)"$'\n'"$(file_of d10c0e0f0010)"
	raised_up=$(file_of d10c0e0f0010)
	raised_down=$(file_of 5e0c0e0f0005)
	# The upgrade keeps what it sent before it raised.
	grep -A1 '^-- +upgrade' "$raised_up" | grep -qF 'CREATE TABLE notes ('
}

# The report lists each mark on each dialect; the proof ran every upgrade
# before the one that raised, identical.
assert_raising_report() {
	local d
	for d in "$@"; do
		assert_line "unfinished: $(file_of 5e0c0e0f0005): 5e0c0e0f0005: $(marks 5e0c0e0f0005); finish it by hand"
		assert_line "$d: the proof stopped before the upgrade of d10c0e0f0010, which is unfinished"
		assert_equal "$(grep -cE "^[0-9a-f]{12} +$d +upgrade +[0-9]+ +yes$" <<<"$output")" 9
	done
	refute_output --regexp ' NO$'
	refute_output --regexp 'downgrade +[0-9]+ +(yes|NO)$'
}

# marks REV: the reasons of REV's "-- unfinished:" line.
marks() {
	sed -n 's/^-- unfinished: //p' "$(file_of "$1")"
}

# A person finishes both files by hand; then mig takes them.
finish_by_hand() {
	# mig's lint and runner refuse the unfinished files, naming each.
	run --separate-stderr mig-verify -m "$out"
	assert_failure 1
	assert_output --regexp "5e0c0e0f0005_[a-z_]*\.sql:5: error: revision '5e0c0e0f0005' is unfinished: downgrade\(\) raised on sqlite: RuntimeError: cannot undo the default team"
	assert_output --partial "error: revision 'd10c0e0f0010' is unfinished: upgrade() raised on sqlite: RuntimeError: notes need the production export"
	db=$(sqlite_url "$BATS_TEST_TMPDIR/refused.db")
	run --separate-stderr mig-upgrade -d "$db" -m "$out"
	assert_failure 2
	[[ $stderr == *"is unfinished: "* ]]
	[[ ! -s $BATS_TEST_TMPDIR/refused.db ]] || assert_equal "$(count_tables "$db")" 0
	# Deleting only one mark is not enough.
	sed -i '/^-- unfinished:/d' "$raised_down"
	printf 'DELETE FROM teams WHERE id = 1;\n' >>"$raised_down"
	run --separate-stderr mig-verify -m "$out"
	assert_failure 1
	refute_output --partial "'5e0c0e0f0005' is unfinished"
	sed -i '/^-- unfinished:/d' "$raised_up"
	# As the REVIEW lines say: the sum is brought up to date, then all is well.
	grep -qF "REVIEW: 'mig-verify --update-sum'." "$raised_up"
	run --separate-stderr mig-verify -m "$out" --update-sum
	assert_success
	run --separate-stderr mig-verify -m "$out" --roundtrip --require-sum
	assert_success
}

@test "revisions that raise in upgrade and in downgrade are written unfinished, the rest is imported, exit 1 lists them (SQLite)" {
	import_raising sqlite
	assert_equal "$(marks 5e0c0e0f0005)" "downgrade() raised on sqlite: RuntimeError: cannot undo the default team"
	assert_equal "$(marks d10c0e0f0010)" "upgrade() raised on sqlite: RuntimeError: notes need the production export"
	assert_line "unfinished: $raised_up: d10c0e0f0010: upgrade() raised on sqlite: RuntimeError: notes need the production export; finish it by hand"
	assert_raising_report sqlite
	# --check on these files fails the same way, and says so in JSON too.
	run --separate-stderr mig-import --alembic-ini "$proj/alembic.ini" --check "$out" \
		--python "$ALEMBIC_PYTHON" --format json
	assert_failure 1
	assert_equal "$(jq -c '[.ok, (.revisions[] | select(.unfinished != null) | .revision)]' <<<"$output")" \
		'[false,"5e0c0e0f0005","d10c0e0f0010"]'
	assert_equal "$(jq -r '.proof_stopped[]' <<<"$output")" \
		"sqlite: the proof stopped before the upgrade of d10c0e0f0010, which is unfinished"
	assert_equal "$(jq '[.steps[] | select(.identical)] | length' <<<"$output")" 9
	finish_by_hand
}

@test "a statement with a line mig would read as a section marker is written guarded and marked unfinished; the proof goes through it" {
	proj=$BATS_TEST_TMPDIR/proj
	cp -r "$(fixture import_alembic)" "$proj"
	cat >"$proj/versions/d30c0e0f0012_team_names.py" <<'PY'
"""team names view

Revision ID: d30c0e0f0012
Revises: c90c0e0f0009
"""
from alembic import op

revision = "d30c0e0f0012"
down_revision = "c90c0e0f0009"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""CREATE VIEW team_names AS
SELECT name FROM teams
-- +one row per team
""")
    # A statement after it in the same section: the ';' above must not end
    # up inside the comment.
    op.create_index("ix_teams_name", "teams", ["name"])


def downgrade():
    op.drop_index("ix_teams_name", "teams")
    op.execute("DROP VIEW team_names")
PY
	run --separate-stderr mig-import --alembic-ini "$proj/alembic.ini" -m "$out" --python "$ALEMBIC_PYTHON"
	assert_failure 1
	assert_equal "$stderr" "mig-import: 1 revision is unfinished (the 'unfinished:' lines say why): finish it by hand"
	f=$(file_of d30c0e0f0012)
	assert_line "unfinished: $f: d30c0e0f0012: upgrade() on sqlite: a statement it sent has a line that reads as a section marker ('-- +'), written with a space before it; finish it by hand"
	assert_line --regexp '^d30c0e0f0012 +sqlite +upgrade +2 +yes$'
	assert_line --regexp '^d30c0e0f0012 +sqlite +downgrade +2 +yes$'
	grep -qx ' -- +one row per team' "$f"
	grep -qx ';' "$f"
	run --separate-stderr mig-verify -m "$out"
	assert_failure 1
	assert_output --partial "error: revision 'd30c0e0f0012' is unfinished"
	sed -i '/^-- unfinished:/d' "$f"
	run --separate-stderr mig-verify -m "$out" --update-sum
	assert_success
	run --separate-stderr mig-verify -m "$out" --roundtrip --require-sum
	assert_success
}

@test "revisions that raise are written unfinished on SQLite and PostgreSQL, and the scratch database is left empty" {
	require_pg
	import_raising both
	# PostgreSQL rolled the raising upgrade back, so the downgrade of d10
	# found no table to drop there: marked too.
	[[ $(marks d10c0e0f0010) == "upgrade() raised on sqlite: RuntimeError: notes need the production export; upgrade() raised on postgresql: RuntimeError: notes need the production export"* ]]
	[[ $(marks 5e0c0e0f0005) == *"downgrade() raised on postgresql: RuntimeError: cannot undo the default team"* ]]
	assert_raising_report sqlite postgresql
	assert_equal "$(pg_tables "${scratch[1]}")" ""
}

@test "what a migration prints to stderr passes mig's output gate and loses the scratch password" {
	require_pg
	proj=$BATS_TEST_TMPDIR/proj
	cp -r "$(fixture import_alembic)" "$proj"
	# A revision that prints its connection URL, password and all, and a
	# workflow command, then raises quoting the URL again.
	cat >"$proj/versions/d20c0e0f0011_loud.py" <<'PY'
"""a loud revision

Revision ID: d20c0e0f0011
Revises: c90c0e0f0009
"""
import subprocess
import sys

from alembic import op

revision = "d20c0e0f0011"
down_revision = "c90c0e0f0009"
branch_labels = None
depends_on = None


def upgrade():
    # A program it runs writes on fd 1, and it reads stdin: neither may
    # touch the driver's answers or requests.
    subprocess.run(["echo", "a program on fd 1"], check=True)
    print("stdin holds %r" % sys.stdin.read(), file=sys.stderr)
    url = op.get_bind().engine.url.render_as_string(hide_password=False)
    print("migrating " + url, file=sys.stderr)
    print("::error::forged by a migration", file=sys.stderr)
    print("  ::add-mask::x and on stdout: " + url)
    raise RuntimeError("cannot reach " + url)


def downgrade():
    pass
PY
	scratch=$(pg_new_db)
	[[ $scratch == *:"$MIG_PG_PASSWORD"@* ]] || fail "the sandbox URL has no password to leak"
	GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary GITHUB_OUTPUT=$BATS_TEST_TMPDIR/outputs \
		run --separate-stderr mig-import --alembic-ini "$proj/alembic.ini" -m "$out" \
		--python "$ALEMBIC_PYTHON" --dialect postgresql --scratch-url "$scratch"
	assert_failure 1
	[[ $output != *"$MIG_PG_PASSWORD"* ]] || fail "the password is in stdout"
	grep -qxF 'a program on fd 1' <<<"$stderr"
	grep -qxF "stdin holds ''" <<<"$stderr"
	# The lines the migration printed are there, without the password...
	[[ $stderr == *"migrating postgresql://mig:***@"* ]] || fail "no redacted URL in: $stderr"
	# (mig's own ::add-mask:: lines register it with the runner: that is
	# their point.)
	run grep -vxF "::add-mask::$MIG_PG_PASSWORD" <<<"$stderr"
	[[ $output != *"$MIG_PG_PASSWORD"* ]] || fail "the password is in stderr: $output"
	# ...and the runner would not obey the workflow commands in them.
	grep -qxF '| ::error::forged by a migration' <<<"$stderr"
	grep -qF '| ::add-mask::x and on stdout' <<<"$stderr"
	! grep -qE '^[[:space:]]*::(error::forged|add-mask::x)' <<<"$stderr"
	# The unfinished file is annotated where a pull request shows it.
	grep -qE '^::error file=[^,]*d20c0e0f0011_a_loud_revision\.sql,title=mig unfinished::d20c0e0f0011 is unfinished: upgrade\(\) raised on postgresql: RuntimeError: cannot reach postgresql://mig:\*\*\*@' <<<"$stderr"
	# The exception quoted the URL: the mark and the report have it redacted.
	run grep -rF "$MIG_PG_PASSWORD" "$out" "$BATS_TEST_TMPDIR/summary"
	assert_failure 1
	run grep -F 'unfinished: upgrade() raised on postgresql: RuntimeError: cannot reach postgresql://mig:***@' "$(file_of d20c0e0f0011)"
	assert_success
}

@test "--version-table names the table the project's env.py gives Alembic; another one is an error that names it" {
	proj=$BATS_TEST_TMPDIR/proj
	cp -r "$(fixture import_alembic)" "$proj"
	sed -i 's/context.configure(connection=connection, target_metadata=None)/context.configure(connection=connection, target_metadata=None, version_table="schema_revisions")/' "$proj/env.py"
	grep -q 'version_table="schema_revisions"' "$proj/env.py"
	run --separate-stderr mig-import --alembic-ini "$proj/alembic.ini" -m "$out" --python "$ALEMBIC_PYTHON"
	assert_failure 2
	[[ $stderr == *"mig-import: env.py gives Alembic the version table schema_revisions, not alembic_version"* ]]
	[[ $stderr == *"--version-table NAME"* ]]
	[[ ! -e $out ]]
	run --separate-stderr mig-import --alembic-ini "$proj/alembic.ini" -m "$out" --python "$ALEMBIC_PYTHON" --version-table schema_revisions
	assert_success
	assert_output --partial "imported 9 revisions into $out/versions with the project's env.py; identical at all 18 steps"
	# mig with the same flag builds a database Alembic reads as at head.
	db=$(sqlite_url "$BATS_TEST_TMPDIR/fresh.db")
	run --separate-stderr mig-upgrade -d "$db" -m "$out" --version-table schema_revisions
	assert_success
	assert_equal "$(sqlite_sql "$db" 'SELECT version_num FROM schema_revisions')" "$HEAD"
	run _alembic_env "$ALEMBIC_PYTHON" -m alembic -c "$proj/alembic.ini" -x "url=$db" current
	assert_success
	assert_output --partial "$HEAD (head)"
}

@test "make install puts the driver in PREFIX/share/mig, where the installed mig-import finds it" {
	stage=$BATS_TEST_TMPDIR/stage
	run make -C "$REPO" install PREFIX=/usr DESTDIR="$stage"
	assert_success
	assert [ -f "$stage/usr/share/mig/mig_import_driver.py" ]
	run --separate-stderr "$stage/usr/bin/mig-import" --alembic-ini "$ini" -m "$out" --python "$ALEMBIC_PYTHON"
	assert_success
	assert_output --partial "imported 9 revisions into $out/versions"
}

@test "under GitHub Actions the table is the step summary and the outputs say how it went" {
	summary=$BATS_TEST_TMPDIR/summary.md
	outputs=$BATS_TEST_TMPDIR/outputs
	GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$summary GITHUB_OUTPUT=$outputs \
		run --separate-stderr import -m "$out"
	assert_success
	grep -qF "| \`$INSPECTOR\` | sqlite | upgrade | 2 | yes |" "$summary"
	grep -qF -- "- review \`$INSPECTOR\`: it read the database" "$summary"
	grep -qx "revisions=9" "$outputs"
	grep -qx "identical=true" "$outputs"
}

@test "-v prints what a flagged revision read" {
	run --separate-stderr import -m "$out" -v
	assert_success
	assert_line "  sqlite upgrade read: SELECT count(*) FROM teams"
}
