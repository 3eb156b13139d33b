"""Ports the command-shaped cases of Alembic's tests/test_revision.py.

Usage: /usr/bin/python3 port_alembic_revision_cases.py TESTS_DIR OUT_JSON

TESTS_DIR holds test_revision.py and _large_map.py of Alembic's repository
at the tag of the installed Alembic (rel_1_8_1) and an empty __init__.py.
Each test runs against the installed Alembic; its RevisionMap calls made by
the test itself are recorded with the map they ran on, kept when the test's
own assertions pass, and written as cases a mig command can check:

  iterate_revisions(upper, lower, implicit_base=True)        -> mig-upgrade --to upper from rows lower
  iterate_revisions(upper, lower, select_for_downgrade=True) -> mig-downgrade --to lower from rows upper
  get_revision(x) of one revision                            -> mig-stamp --purge x
  (inclusive=False, as the commands call them; other calls are API-level)

The expected rows after an upgrade or downgrade are computed by Alembic's
HeadMaintainer from the steps the test expects.
"""
import importlib
import json
import sys

import sqlalchemy.testing.config as sa_config


class _NoPlugin:  # sqlalchemy.testing's fixtures want a pytest plugin; none here
    def __getattr__(self, name):
        return lambda *a, **k: (lambda x: x)


sa_config._fixture_functions = _NoPlugin()

from alembic import util  # noqa: E402
from alembic.migration import HeadMaintainer, RevisionStep  # noqa: E402
from alembic.script.revision import Revision, RevisionMap  # noqa: E402
from alembic.testing import mock  # noqa: E402

CASES, GRAPHS = [], {}
state = {"depth": 0, "test": None}


def graph_key(map_):
    revs = []
    for rev in map_._revision_map.values():
        if rev is None or any(r["id"] == rev.revision for r in revs):
            continue
        revs.append({"id": rev.revision,
                     "down": list(util.to_tuple(rev.down_revision, default=())),
                     "labels": sorted(rev._orig_branch_labels or ()),
                     "deps": list(util.to_tuple(rev.dependencies, default=()))})
    key = json.dumps(revs, sort_keys=True)
    if key not in GRAPHS:
        GRAPHS[key] = ("g%d" % len(GRAPHS), revs)
    return GRAPHS[key][0]


def rows_of(map_, ids):
    """ids as rows, or None when they are not plain revision ids."""
    ids = util.to_tuple(ids, default=())
    if ids == ("base",):
        return []
    if all(isinstance(i, str) and i in map_._revision_map and
           map_._revision_map[i].revision == i for i in ids):
        return list(ids)
    return None


def after(map_, rows, revs, upgrade):
    hm = HeadMaintainer(mock.Mock(), set(rows))
    for rev in revs:
        step = object.__new__(RevisionStep)  # no script module needed for the rows
        step.revision_map, step.revision, step.is_upgrade = map_, rev, upgrade
        hm.update_to_step(step)
    return sorted(hm.heads)


def wrap(name):
    real = getattr(RevisionMap, name)

    def call(self, *args, **kw):
        state["depth"] += 1
        try:
            result = real(self, *args, **kw)
            if name == "iterate_revisions":
                result = list(result)
        finally:
            state["depth"] -= 1
        if state["depth"] == 0 and state["test"]:
            record(self, name, args, kw, result)
        return result
    return call


def record(map_, name, args, kw, result):
    if name == "get_revision":
        if isinstance(args[0], str) and isinstance(result, Revision):
            CASES.append({"test": state["test"], "graph": graph_key(map_),
                          "command": "stamp", "target": [args[0]], "rows": [],
                          "purge": True, "steps": [], "after": [result.revision]})
        return
    upper, lower = args[0], args[1]
    inclusive = kw.get("inclusive", False)
    implicit = kw.get("implicit_base", False)
    down = kw.get("select_for_downgrade", False)
    if inclusive or kw.get("assert_relative_length", True) is not True:
        return
    if not down and implicit and isinstance(upper, str):
        rows = rows_of(map_, lower)
        if rows is not None:
            revs = list(reversed(result))
            CASES.append({"test": state["test"], "graph": graph_key(map_),
                          "command": "upgrade", "target": [upper], "rows": sorted(rows),
                          "steps": [[r.revision, "up"] for r in revs],
                          "after": after(map_, rows, revs, True)})
    elif down and not implicit and isinstance(lower, str):
        rows = rows_of(map_, upper)
        if rows is not None:
            CASES.append({"test": state["test"], "graph": graph_key(map_),
                          "command": "downgrade", "target": [lower], "rows": sorted(rows),
                          "steps": [[r.revision, "down"] for r in result],
                          "after": after(map_, rows, result, False)})


def main(tests_dir, out):
    sys.path.insert(0, tests_dir + "/..")
    pkg = tests_dir.rstrip("/").rsplit("/", 1)[-1]
    mod = importlib.import_module(pkg + ".test_revision")
    for name in ("iterate_revisions", "get_revision"):
        setattr(RevisionMap, name, wrap(name))
    for cname in sorted(dir(mod)):
        cls = getattr(mod, cname)
        if not isinstance(cls, type) or not cname.endswith("Test") and \
                not hasattr(cls, "setUp"):
            continue
        for t in sorted(x for x in dir(cls) if x.startswith("test_")):
            obj = cls()
            state["test"] = None
            try:
                if hasattr(obj, "setUp"):
                    obj.setUp()
                state["test"] = "%s.%s" % (cname, t)
                before = len(CASES)
                getattr(obj, t)()
            except Exception as e:  # noqa: BLE001
                if state["test"]:
                    del CASES[before:]
                    print("skipped %s: %s" % (state["test"], e), file=sys.stderr)
            state["test"] = None
    with open(out, "w") as f:
        json.dump({"source": "alembic rel_1_8_1 tests/test_revision.py",
                   "graphs": {gid: revs for gid, revs in GRAPHS.values()},
                   "cases": CASES}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
