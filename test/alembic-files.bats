#!/usr/bin/env bats
# alembic-files.bats: a versions folder of Alembic's own .py scripts is read
# by Alembic's file rules (tools/lib/graph.c, pyrev.c, alembicini.c):
#
# - the Brikk-shaped folder (fixture alembic_brikk): .py revisions named by
#   alembic.ini's dated file_template, three plain .sql files from before
#   Alembic, and a down_revision naming a file instead of a revision:
#
#     a1b2c3d4e5f6 ── p7_comprehensive    c9d8e7f6a5b4 (down_revision
#                                          'p7_comprehensive_trust_layer')
#     001_initial.sql, 002_seed_agents.sql, 003_trust_indexes.sql: no header
#
# - which names Alembic loads (a .py not starting with ".#" or "__init__",
#   hidden ones included; a hex-named legacy script without a revision
#   variable), and the docstring rules (the older "Revises: ('a', 'b')"
#   merge form; "Revision ID:" disagreeing with the code), checked against
#   Debian's Alembic where Alembic has an answer.

load test_helper/common
load test_helper/alembic

# script DIR NAME: write DIR/versions/NAME from stdin.
script() {
  mkdir -p "$1/versions"
  cat >"$1/versions/$2"
}

# plain_script DIR NAME REV [DOWN]: an Alembic script of the classic
# template whose docstring's first line is "REV message".
plain_script() {
  local down=None
  [[ -n ${4:-} ]] && down="'$4'"
  script "$1" "$2" <<EOF
"""$3 message

Revision ID: $3
Revises: ${4:-}
Create Date: 2024-01-01 00:00:00.000000

"""
from alembic import op

revision = '$3'
down_revision = $down
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
EOF
}

# lint DIR: mig-verify --lint-only on DIR as JSON into $mig, with $status.
lint() {
  run --separate-stderr mig-verify --lint-only -m "$1" --format json
  mig=$output
}

# findings: "severity code file:line" a line, the file's base name only.
findings() {
  jq -r '.findings[] | "\(.severity) \(.code) \(.file | split("/") | last):\(.line)"' <<<"$mig"
}

@test "the Brikk folder: the dangling down_revision is the finding, with its fix, and each plain .sql file one warning" {
  lint "$(fixture alembic_brikk)/migrations"
  assert_failure 1
  run findings
  assert_output "warning not-a-migration 001_initial.sql:0
warning not-a-migration 002_seed_agents.sql:0
warning not-a-migration 003_trust_indexes.sql:0
error missing-revision 2024_03_05_0815-c9d8e7f6a5b4_add_audit_log.py:14"
  run jq -r '.findings[] | select(.code == "missing-revision") | .message, .hint' <<<"$mig"
  assert_output "down_revision 'p7_comprehensive_trust_layer' of 'c9d8e7f6a5b4' names no revision
did you mean 'p7_comprehensive'?"
  # the same in text, as a user reads it
  run mig-verify --lint-only -m "$(fixture alembic_brikk)/migrations"
  assert_failure 1
  assert_output --partial "hint: did you mean 'p7_comprehensive'?"
  assert_equal "$(grep -c 'ignored, as Alembic ignores it' <<<"$output")" 3
}

@test "the Brikk folder: mig-upgrade refuses the broken graph with the fix, and creates nothing" {
  db=$BATS_TEST_TMPDIR/brikk.db
  run mig-upgrade -m "$(fixture alembic_brikk)/migrations" -d "$(sqlite_url "$db")"
  assert_failure 2
  assert_output --partial "names no revision"
  assert_output --partial "did you mean 'p7_comprehensive'?"
  refute [ -e "$db" ]
}

@test "the file-name warning follows alembic.ini's file_template, and fires without it" {
  dir=$BATS_TEST_TMPDIR/brikk
  cp -r "$(fixture alembic_brikk)" "$dir"
  lint "$dir/migrations"
  run jq -r '[.findings[] | select(.code == "file-name")] | length' <<<"$mig"
  assert_output 0
  rm "$dir/alembic.ini"
  lint "$dir/migrations"
  run jq -r '.findings[] | select(.code == "file-name") | .file | split("/") | last' <<<"$mig"
  assert_output "2024_01_10_0900-a1b2c3d4e5f6_initial_schema.py
2024_02_01_1200-p7_comprehensive_trust_layer.py
2024_03_05_0815-c9d8e7f6a5b4_add_audit_log.py"
  # a template that does not make these names: the warning again
  cp "$(fixture alembic_brikk)/alembic.ini" "$dir/alembic.ini"
  sed -i 's/^file_template = .*/file_template = %%(rev)s_%%(slug)s/' "$dir/alembic.ini"
  lint "$dir/migrations"
  run jq -r '[.findings[] | select(.code == "file-name")] | length' <<<"$mig"
  assert_output 3
}

@test "a .sql file with a mig header that is malformed stays an error among Alembic scripts" {
  dir=$BATS_TEST_TMPDIR/migs
  plain_script "$dir" aaaa00000001_base.py aaaa00000001
  script "$dir" bbbb00000002_half.sql <<'EOF'
-- revision: bbbb00000002
-- down_revision: aaaa00000001
CREATE TABLE t (id INTEGER);
EOF
  lint "$dir"
  assert_failure 2
  run jq -r '.findings[] | "\(.severity) \(.code) \(.file | split("/") | last):\(.line) \(.message)"' <<<"$mig"
  assert_output "error bad-file bbbb00000002_half.sql:3 SQL before the first '-- +upgrade' marker"
}

@test "a header-less .sql file in a folder of mig migrations is still an error, never skipped" {
  dir=$BATS_TEST_TMPDIR/migs
  script "$dir" aaaa00000001_base.sql <<'EOF'
-- revision: aaaa00000001
-- down_revision: none
-- +upgrade
CREATE TABLE a (id INTEGER);
EOF
  printf 'CREATE TABLE lost_header (id INTEGER);\n' >"$dir/versions/bbbb00000002_lost.sql"
  db=$BATS_TEST_TMPDIR/x.db
  run mig-upgrade -m "$dir" -d "$(sqlite_url "$db")"
  assert_failure 2
  assert_output --partial "bbbb00000002_lost.sql"
  refute [ -e "$db" ]
}

@test "mig loads the .py names Alembic loads and skips the ones it skips" {
  require_alembic
  dir=$BATS_TEST_TMPDIR/migs
  plain_script "$dir" aaaa00000001_base.py aaaa00000001
  plain_script "$dir" .bbbb00000002_hidden.py bbbb00000002 aaaa00000001
  # Alembic 0.1's scripts: no revision variable, the hex file name is the id
  script "$dir" abcdef12.py <<'EOF'
down_revision = 'bbbb00000002'


def upgrade():
    pass


def downgrade():
    pass
EOF
  # skipped by Alembic's rule: an editor's lock file, __init__ modules
  printf 'this is not python\n' >"$dir/versions/.#cccc00000003_lock.py"
  printf 'this is not python\n' >"$dir/versions/__init__helpers.py"
  printf 'revision = None\n' >"$dir/versions/__init__.py"
  printf 'not a script\n' >"$dir/versions/README"
  run --separate-stderr _alembic_env "$ALEMBIC_PYTHON" "$REPO/test/test_helper/alembic_graph.py" "$dir"
  assert_success
  alembic=$output
  lint "$dir"
  assert_success
  assert_equal "$(jq -c '.graph.order | sort' <<<"$mig")" "$(jq -c '.down | keys' <<<"$alembic")"
  assert_equal "$(jq -c '.graph.heads' <<<"$mig")" "$(jq -c '.heads' <<<"$alembic")"
  assert_equal "$(jq -c '.graph.order' <<<"$mig")" '["aaaa00000001","bbbb00000002","abcdef12"]'
  run findings
  assert_output "warning not-a-migration README:0
warning file-name .bbbb00000002_hidden.py:10"
}

@test "the older merge docstring 'Revises: (a, b)' agrees with down_revision; a wrong one is still a warning" {
  dir=$BATS_TEST_TMPDIR/migs
  plain_script "$dir" aaaa00000001_base.py aaaa00000001
  plain_script "$dir" bbbb00000002_left.py bbbb00000002 aaaa00000001
  plain_script "$dir" cccc00000003_right.py cccc00000003 aaaa00000001
  script "$dir" dddd00000004_merge.py <<'EOF'
"""merge

Revision ID: dddd00000004
Revises: ('bbbb00000002', 'cccc00000003')
Create Date: 2016-05-01 00:00:00.000000

"""

revision = 'dddd00000004'
down_revision = ('bbbb00000002', 'cccc00000003')


def upgrade():
    pass


def downgrade():
    pass
EOF
  lint "$dir"
  assert_success
  run findings
  assert_output ""
  sed -i "s/Revises: ('bbbb00000002', 'cccc00000003')/Revises: ('bbbb00000002', 'eeee00000005')/" \
    "$dir/versions/dddd00000004_merge.py"
  lint "$dir"
  run findings
  assert_output "warning docstring-revises dddd00000004_merge.py:4"
}

@test "a 'Revision ID:' docstring that disagrees with the code is a warning at its line; the code's id counts" {
  dir=$BATS_TEST_TMPDIR/migs
  plain_script "$dir" aaaa00000001_base.py aaaa00000001
  plain_script "$dir" bbbb00000002_next.py bbbb00000002 aaaa00000001
  sed -i 's/^Revision ID: bbbb00000002$/Revision ID: bbbb00000099/' "$dir/versions/bbbb00000002_next.py"
  lint "$dir"
  assert_success
  run jq -r '.findings[] | [.severity, .code, (.file | split("/") | last), .line, .message] | @tsv' <<<"$mig"
  assert_output "$(printf '%s\t' warning docstring-revision-id bbbb00000002_next.py 3)the docstring says 'Revision ID: bbbb00000099' but revision is 'bbbb00000002'"
  assert_equal "$(jq -c '.graph.heads' <<<"$mig")" '["bbbb00000002"]'
}
