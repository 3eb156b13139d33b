#!/usr/bin/env bats
# alembic-graph.bats: the revision graph that mig reads from Alembic's own
# *.py scripts without Python (tools/lib/pyrev.c) is the graph that Alembic
# itself computes from them: same revisions, heads, bases, branch points and
# merge points, and mig's order puts each script after what Alembic says it
# needs. Alembic's side is test/test_helper/alembic_graph.py, run with
# Debian's python3-alembic (ScriptDirectory, no env.py needed).
#
# Fixtures, one syntax family each:
#
# alembic_py_classic: Alembic's classic template, single quotes (one file in
# double quotes), 13 revisions; a one-line tuple merge, a three-way merge over
# several lines with comments and a trailing comma, depends_on a revision id,
# a downgrade that is only `pass`.
#
#   1f0a ── 2b7c ── 3c8d ─┬─ 4d9e ── 6f1a ─┬─ 7a2b ── 8b3c ─┬─ 9c4d ─┬─ c2f7 ── d3a8
#                         └─ 5e0f ─────────┘                ├─ a0d5 ─┤  (3-way merge)
#                                                           └─ b1e6 ─┘
#                         a0d5 depends_on 9c4d
#
# alembic_py_annotated: Alembic 1.13's template (revision: str,
# Union[str, None], Union[str, Sequence[str], None], Optional[...]), both
# quote styles, 11 revisions, two bases; branch_labels as a one-element tuple,
# a string and a list; a merge as a list; a multi-line tuple merge with
# comments and a trailing comma; depends_on naming a branch label.
#
#   0b1e (core) ── 1c2f ── 2d3a ─┬─ 5a6d ──────────────────┬─ 6b7e ─┬─ 9eab ── aefc
#                                └─ 3e4b (feature) ── 4f5c ┘        │
#   7c8f (audit) ── 8d9a  (depends_on 'feature') ───────────────────┘
#
# alembic_py_multibase: custom revision ids, three bases, three heads; two
# labels on one revision, depends_on as a list of an id and a label, an
# annotation and a tuple each over several lines, a merge across bases.
#
#   billing_0001 (billing, payments) ── billing_0002 ── billing_0003 ─┐
#   notify_0001 (notify; depends_on billing_0001) ────────────────────┴─ notify_0002
#   search_0001 (search) ── search_0002 ─┬─ search_0003      (notify_0002 depends_on
#     (search_0002 depends_on             └─ search_0004       search_0001)
#      billing_0002 and 'payments')

load test_helper/common
load test_helper/alembic

setup() {
  require_alembic
}

# alembic_graph DIR: Alembic's graph of DIR/versions, as JSON. A fixture's
# graph is computed once a run (each computation is a Python start with
# Alembic's imports) and kept in BATS_RUN_TMPDIR; fixtures do not change.
alembic_graph() {
  local kept
  if [[ $1 != "$REPO/test/fixtures/"* ]]; then
    _alembic_env "$ALEMBIC_PYTHON" "$REPO/test/test_helper/alembic_graph.py" "$1"
    return
  fi
  kept=$BATS_RUN_TMPDIR/alembic-graph-${1##*/}.json
  if [[ ! -s $kept ]]; then
    _alembic_env "$ALEMBIC_PYTHON" "$REPO/test/test_helper/alembic_graph.py" "$1" \
      >"$kept.$BASHPID" || return
    mv -f "$kept.$BASHPID" "$kept"
  fi
  cat "$kept"
}

# assert_status N: the last `run` exited N.
assert_status() {
  if (($1 == 0)); then assert_success; else assert_failure "$1"; fi
}

# compare_with_alembic DIR STATUS [MIG-VERIFY ARGS...]: `mig-verify --lint-only`
# on DIR exits STATUS with nothing on stderr, and its graph has the revision
# count, heads, bases, branch points and merge points that Alembic computes.
# Leaves the two JSON documents in $mig and $alembic.
compare_with_alembic() {
  local dir=$1 want=$2 key
  run --separate-stderr alembic_graph "$dir"
  assert_success
  assert_equal "$stderr" ""
  alembic=$output
  run --separate-stderr mig-verify --lint-only -m "$dir" --format json "${@:3}"
  mig=$output
  for key in revisions heads bases branch_points merge_points; do
    assert_equal "$key: $(jq -c ".graph.$key" <<<"$mig")" "$key: $(jq -c ".$key" <<<"$alembic")"
  done
  assert_status "$want"
  assert_equal "$stderr" ""
}

# findings: the findings of $mig, one a line: "severity code file:line" with
# the file's base name.
findings() {
  jq -r '.findings[] | "\(.severity) \(.code) \(.file | split("/") | last):\(.line)"' <<<"$mig"
}

# order_violations: each revision that mig's order puts before a revision
# that Alembic says must come first (down_revision or depends_on, branch
# labels resolved), and each revision missing from the order.
order_violations() {
  jq -rn --argjson m "$mig" --argjson a "$alembic" '
    $m.graph.order as $o
    | ($a.down | keys - $o | .[] | "\(.) is not in the order"),
      ($a.down | to_entries[] | .key as $r | .value[] | . as $d
       | select(($o | index($d)) == null or ($o | index($d)) > ($o | index($r)))
       | "\($d) must come before \($r)")'
}

# script DIR NAME: write DIR/versions/NAME from stdin.
script() {
  mkdir -p "$1/versions"
  cat >"$1/versions/$2"
}

# base_script DIR: a plain base revision 'aaaa00000001' in DIR.
base_script() {
  script "$1" aaaa00000001_base.py <<'EOF'
revision = 'aaaa00000001'
down_revision = None


def upgrade():
    pass


def downgrade():
    pass
EOF
}

# --- the fixtures against Alembic ---------------------------------------------

@test "mig reads the classic Alembic scripts into the graph Alembic computes" {
  compare_with_alembic "$(fixture alembic_py_classic)" 0
  # The fixture exercises what it claims to (Alembic's own answer).
  assert_equal "$(jq -c '[.revisions, .branch_points, .merge_points]' <<<"$alembic")" \
    '[13,["3c8d0e2f4a51","8b3c5d7e9fa6"],["7a2b4c6d8e95","c2f7a9b1d3ea"]]'
}

@test "mig reads the annotated Alembic 1.13 scripts into the graph Alembic computes" {
  compare_with_alembic "$(fixture alembic_py_annotated)" 0
  assert_equal "$(jq -c '[.revisions, .bases, .merge_points]' <<<"$alembic")" \
    '[11,["0b1e5c7a9d21","7c8f2d4b6e98"],["6b7e1c3a5d87","9eab4f6d8ab0"]]'
}

@test "mig reads three bases and three heads of custom-id scripts into the graph Alembic computes" {
  compare_with_alembic "$(fixture alembic_py_multibase)" 0 --allow-multiple-heads
  assert_equal "$(jq -c '[.revisions, .heads, .bases]' <<<"$alembic")" \
    '[9,["notify_0002","search_0003","search_0004"],["billing_0001","notify_0001","search_0001"]]'
}

@test "mig-verify without --allow-multiple-heads fails on the heads Alembic reports" {
  compare_with_alembic "$(fixture alembic_py_multibase)" 1
  run jq -r '.findings[] | select(.severity == "error") | "\(.code): \(.message)"' <<<"$mig"
  assert_output "multiple-heads: 3 heads: notify_0002, search_0003, search_0004, which branch from 'billing_0002'"
}

@test "mig orders every script after its down_revision and depends_on as Alembic resolves them" {
  local name
  for name in alembic_py_classic alembic_py_annotated alembic_py_multibase; do
    compare_with_alembic "$(fixture "$name")" 0 --allow-multiple-heads
    run order_violations
    assert_success
    assert_output ""
  done
  # depends_on by branch label: 'feature' is 3e4b8f0d2a54, 'payments' billing_0001.
  compare_with_alembic "$(fixture alembic_py_annotated)" 0
  assert_equal "$(jq -c '.down["8d9a3e5c7fa9"]' <<<"$alembic")" '["3e4b8f0d2a54","7c8f2d4b6e98"]'
  compare_with_alembic "$(fixture alembic_py_multibase)" 0 --allow-multiple-heads
  assert_equal "$(jq -c '.down.search_0002' <<<"$alembic")" '["billing_0001","billing_0002","search_0001"]'
}

@test "mig-verify's order is the order Alembic's upgrade heads applies" {
  local name
  for name in alembic_py_classic alembic_py_annotated alembic_py_multibase; do
    compare_with_alembic "$(fixture "$name")" 0 --allow-multiple-heads
    assert_equal "$(jq -c '.graph.order' <<<"$mig")" "$(jq -c '.upgrade_order' <<<"$alembic")"
  done
}

@test "mig finds in the fixtures only the pass-only downgrades and the extra bases" {
  compare_with_alembic "$(fixture alembic_py_classic)" 0
  run findings
  assert_output "warning no-downgrade d3a8b0c2e4fb_backfill_accounts.py:13"
  compare_with_alembic "$(fixture alembic_py_annotated)" 0
  run findings
  assert_output "warning no-downgrade aefc5a7e9bc1_seed_roles.py:15
warning multiple-bases 7c8f2d4b6e98_audit_log.py:16"
  compare_with_alembic "$(fixture alembic_py_multibase)" 0 --allow-multiple-heads
  run findings
  assert_output "warning no-downgrade search_0004_stopwords.py:11
warning multiple-bases notify_0001_channels.py:12
warning multiple-heads search_0004_stopwords.py:12"
}

# --- findings and errors on .py scripts -----------------------------------------

@test "a docstring Revises line that disagrees with down_revision is a warning at the docstring line" {
  dir=$BATS_TEST_TMPDIR/migs
  base_script "$dir"
  script "$dir" bbbb00000002_widgets.py <<'EOF'
# -*- coding: utf-8 -*-
"""add widgets

Revision ID: bbbb00000002
Revises: cccc00000009
Create Date: 2024-03-01 12:00:00.000000

"""
from alembic import op

revision = 'bbbb00000002'
down_revision = 'aaaa00000001'


def upgrade():
    op.execute("CREATE TABLE widgets (id INTEGER PRIMARY KEY)")


def downgrade():
    op.execute("DROP TABLE widgets")
EOF
  # The graph follows the code, not the docstring, as Alembic does.
  compare_with_alembic "$dir" 0
  run jq -r '.findings[] | [.severity, .code, .file, .line, .message] | @tsv' <<<"$mig"
  assert_output "$(printf '%s\t' warning docstring-revises "$dir/versions/bbbb00000002_widgets.py" 5)the docstring says 'Revises: cccc00000009' but down_revision is 'aaaa00000001'"
}

@test "a down_revision in a .py script naming a missing revision is an error at its line" {
  dir=$BATS_TEST_TMPDIR/migs
  base_script "$dir"
  script "$dir" bbbb00000002_orphan.py <<'EOF'
"""orphan

Revision ID: bbbb00000002
Revises: aaaa00000001, cccc00000404
"""
from typing import Sequence, Union

revision: str = 'bbbb00000002'
down_revision: Union[str, Sequence[str], None] = (
    'aaaa00000001',
    'cccc00000404',
)


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
EOF
  run --separate-stderr mig-verify --lint-only -m "$dir" --format json
  assert_failure 1
  assert_equal "$stderr" ""
  run jq -r '.ok, (.findings[] | [.severity, .code, .file, .line, .message] | @tsv)' <<<"$output"
  assert_output "false
$(printf '%s\t' error missing-revision "$dir/versions/bbbb00000002_orphan.py" 9)down_revision 'cccc00000404' of 'bbbb00000002' names no revision"
  run --separate-stderr mig-verify --lint-only -m "$dir"
  assert_failure 1
  assert_line "$dir/versions/bbbb00000002_orphan.py:9: error: down_revision 'cccc00000404' of 'bbbb00000002' names no revision"
}

# A down_revision computed at import time: Alembic runs it, mig must refuse.
computed_down_revision() {
  base_script "$1"
  script "$1" bbbb00000002_computed.py <<'EOF'
"""computed"""
from alembic import op


def previous():
    return 'aaaa00000001'


revision = 'bbbb00000002'
down_revision = previous()


def upgrade():
    pass


def downgrade():
    pass
EOF
}

@test "mig-verify --lint-only stops with exit 2 at file:line on a down_revision it cannot read" {
  dir=$BATS_TEST_TMPDIR/migs
  computed_down_revision "$dir"
  run --separate-stderr mig-verify --lint-only -m "$dir"
  assert_failure 2
  [[ $stderr == "mig-verify: $dir/versions/bbbb00000002_computed.py:10: down_revision: mig reads a string, None, or a tuple or list of strings here"* ]]
}

@test "mig-upgrade stops with exit 2 at file:line on a down_revision it cannot read" {
  dir=$BATS_TEST_TMPDIR/migs
  computed_down_revision "$dir"
  db=$BATS_TEST_TMPDIR/app.db
  run --separate-stderr mig-upgrade -m "$dir" -d "$(sqlite_url "$db")"
  assert_failure 2
  assert_output ""
  [[ ${stderr%%$'\n'*} == "mig-upgrade: $dir/versions/bbbb00000002_computed.py:10: down_revision: mig reads a string, None, or a tuple or list of strings here" ]]
  [[ $stderr == *"write the value as a literal"* ]]
}

@test "mig-upgrade refuses to apply an Alembic .py script, says it is read for the graph only, and changes nothing" {
  dir=$(fixture alembic_py_classic)
  db=$BATS_TEST_TMPDIR/app.db
  run --separate-stderr mig-upgrade -m "$dir" -d "$(sqlite_url "$db")"
  assert_failure 2
  refute_output --partial "applied"
  [[ $stderr == "mig-upgrade: $dir/versions/1f0a2b3c4d5e_create_accounts.py: an Alembic Python script cannot be run by mig; it is read for the revision graph only"* ]]
  [[ $stderr == *"hint: run it with alembic, or rewrite it as a .sql migration"* ]]
  assert_equal "$(count_tables "$db")" 0
  assert_equal "$(version_rows "$db")" ""
}

# --- valid Python that Alembic reads: mig must read it the same or refuse -------

@test "a merge written as a tuple without brackets gives Alembic's graph" {
  dir=$BATS_TEST_TMPDIR/migs
  base_script "$dir"
  for rev in bbbb00000002 cccc00000003; do
    script "$dir" "${rev}_side.py" <<EOF
revision = '$rev'
down_revision = 'aaaa00000001'
EOF
  done
  script "$dir" dddd00000004_merge.py <<'EOF'
revision = 'dddd00000004'
down_revision = 'bbbb00000002', 'cccc00000003'
EOF
  compare_with_alembic "$dir" 0
}

@test "two assignments on one line separated by a semicolon give Alembic's graph" {
  dir=$BATS_TEST_TMPDIR/migs
  base_script "$dir"
  script "$dir" bbbb00000002_next.py <<'EOF'
revision = 'bbbb00000002'; down_revision = 'aaaa00000001'
EOF
  compare_with_alembic "$dir" 0
}

@test "a revision id written as two adjacent string literals gives Alembic's graph" {
  dir=$BATS_TEST_TMPDIR/migs
  base_script "$dir"
  script "$dir" bbbb00000002_next.py <<'EOF'
revision = 'bbbb' '00000002'
down_revision = 'aaaa00000001'
EOF
  compare_with_alembic "$dir" 0
}

@test "a branch label with a hyphen, which Alembic accepts, gives Alembic's graph" {
  dir=$BATS_TEST_TMPDIR/migs
  base_script "$dir"
  script "$dir" bbbb00000002_cart.py <<'EOF'
revision = 'bbbb00000002'
down_revision = 'aaaa00000001'
branch_labels = ('shopping-cart',)
EOF
  compare_with_alembic "$dir" 0
}
