#!/usr/bin/env bats
# mig-new-alembic.bats: mig-new's --head, --splice, --depends-on and --rev-id
# do what `alembic revision` does with the same flags, on the same folder of
# Alembic scripts (the alembic_py_classic fixture: a branch point at
# 3c8d0e2f4a51 and 8b3c5d7e9fa6, merges, one head d3a8b0c2e4fb), run with
# Debian's Alembic in a project made by `alembic init`: both refuse, or both
# write a revision with the same down_revision and depends_on.

load test_helper/common
load test_helper/alembic

setup() {
  require_alembic
}

# project: a fresh `alembic init` project in $BATS_TEST_TMPDIR/p holding the
# fixture's scripts; echo its folder (script_location).
project() {
  local p=$BATS_TEST_TMPDIR/p$RANDOM
  mkdir -p "$p"
  (cd "$p" && _alembic_env "$ALEMBIC_PYTHON" -m alembic init --template generic scripts >/dev/null)
  cp "$REPO"/test/fixtures/alembic_py_classic/versions/*.py "$p/scripts/versions/"
  echo "$p"
}

# py_links FILE: "down_revision | depends_on" of an Alembic script, read by
# Python itself, each as a sorted comma-separated list ("" for None).
py_links() {
  _alembic_env "$ALEMBIC_PYTHON" - "$1" <<'EOF'
import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
found = {}
for node in tree.body:
    target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
    if isinstance(target, ast.Name) and target.id in ("down_revision", "depends_on"):
        found[target.id] = ast.literal_eval(node.value)
def show(v):
    if v is None:
        return ""
    return ",".join(sorted([v] if isinstance(v, str) else v))
print(show(found.get("down_revision")) + " | " + show(found.get("depends_on")))
EOF
}

# sql_links FILE: the same of a mig file's header.
sql_links() {
  local down deps
  down=$(sed -n 's/^-- down_revision: //p' "$1" | tr -d ' ')
  deps=$(sed -n 's/^-- depends_on: //p' "$1" | tr -d ' ')
  [[ $down == none ]] && down=
  echo "$(tr ',' '\n' <<<"$down" | sort | paste -sd,) | $(tr ',' '\n' <<<"$deps" | sort | paste -sd,)"
}

# same_as_alembic ARGS...: `alembic revision ARGS` and `mig-new ARGS` on two
# copies of the folder both fail, or both write the same links.
same_as_alembic() {
  local a m
  a=$(project) m=$(project)
  run --separate-stderr bash -c 'cd "$1" && shift && "$@"' _ "$a" \
    env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV -u PYENV_VERSION "$ALEMBIC_PYTHON" \
    -m alembic -c alembic.ini revision -m "new work" --rev-id aaaa_alembic "$@"
  local a_status=$status
  run --separate-stderr mig-new -m "$m/scripts" --rev-id aaaa_mig "$@" "new work"
  local m_status=$status
  if ((a_status != 0)); then
    assert_equal "$*: mig-new exit $m_status" "$*: mig-new exit 4"
    return
  fi
  assert_equal "$*: mig-new exit $m_status $stderr" "$*: mig-new exit 0 "
  assert_equal "$*: $(sql_links "$output")" "$*: $(py_links "$a"/scripts/versions/aaaa_alembic_*.py)"
}

@test "mig-new --head and --splice refuse and accept what alembic revision does" {
  same_as_alembic --head d3a8b0c2e4fb
  same_as_alembic --head d3a8
  same_as_alembic --head 8b3c5d7e9fa6
  same_as_alembic --head 8b3c5d7e9fa6 --splice
  same_as_alembic --head 3c8d --splice
  same_as_alembic --head base
}

@test "mig-new --depends-on writes the ids alembic revision writes" {
  same_as_alembic --depends-on 9c4d
  same_as_alembic --depends-on 9c4d6e8fa0b7 --depends-on 5e0f
  same_as_alembic --head 8b3c --splice --depends-on a0d5
}
