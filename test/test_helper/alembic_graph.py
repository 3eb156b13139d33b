"""test/test_helper/alembic_graph.py: the revision graph as Alembic computes it.

Usage: /usr/bin/python3 test/test_helper/alembic_graph.py DIR

DIR holds versions/*.py (Alembic revision scripts). No alembic.ini or env.py
is needed: alembic.script.ScriptDirectory(DIR) imports the scripts and builds
its revision map, as `alembic heads` and `alembic history` do.

Prints one JSON document on stdout, every list sorted:
  revisions      how many scripts Alembic loaded
  heads          ScriptDirectory.get_heads()
  bases          revisions whose down_revision is None (get_bases())
  branch_points  Script.is_branch_point (two or more down_revision children)
  merge_points   Script.is_merge_point (a down_revision of two or more)
  down           {revision: its down_revisions plus its depends_on, resolved
                 to revision ids (branch labels too)}: every revision must be
                 applied after each of these
  upgrade_order  the revisions in the order `alembic upgrade heads` applies
                 them to an empty database, the files read in name order
                 (as mig reads them; Alembic's own order is the file system's)
Exits 0, or 2 when Alembic cannot load DIR (its error on stderr).
"""
import json
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the fixtures

from alembic.script import ScriptDirectory  # noqa: E402
from alembic.script.base import Script  # noqa: E402
from alembic.util import CommandError  # noqa: E402


_list_py_dir = Script._list_py_dir.__func__
Script._list_py_dir = classmethod(
    lambda cls, scriptdir, path: sorted(_list_py_dir(cls, scriptdir, path)))


def graph(directory):
    script = ScriptDirectory(directory)
    revs = list(script.walk_revisions(base="base", head="heads"))
    return {
        "revisions": len(revs),
        "heads": sorted(script.get_heads()),
        "bases": sorted(script.get_bases()),
        "branch_points": sorted(r.revision for r in revs if r.is_branch_point),
        "merge_points": sorted(r.revision for r in revs if r.is_merge_point),
        "down": {r.revision: sorted(r._all_down_revisions)
                 for r in sorted(revs, key=lambda r: r.revision)},
        # what _upgrade_revs("heads", ()) walks, without the steps (which
        # need each script's upgrade())
        "upgrade_order": [r.revision for r in reversed(list(
            script.revision_map.iterate_revisions("heads", (), implicit_base=True)))],
    }


def main(argv):
    if len(argv) != 2:
        print("usage: alembic_graph.py DIR", file=sys.stderr)
        return 2
    try:
        result = graph(argv[1])
    except (CommandError, KeyError, ValueError, SyntaxError) as e:
        print(f"alembic_graph.py: {argv[1]}: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
