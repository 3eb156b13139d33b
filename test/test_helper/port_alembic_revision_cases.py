"""Ports the cases of Alembic's tests/test_revision.py that a mig command can check.

Usage: /usr/bin/python3 port_alembic_revision_cases.py TESTS_DIR OUT_JSON

TESTS_DIR holds test_revision.py and _large_map.py of Alembic's repository
at the tag of the installed Alembic (rel_1_8_1) and an empty __init__.py.
Each test runs against the installed Alembic; its RevisionMap calls made by
the test itself are recorded with the map they ran on, kept when the test's
own assertions pass, and written as cases a mig command can check:

  iterate_revisions(upper, lower, implicit_base=True)        -> mig-upgrade --to upper from rows lower
  iterate_revisions(upper, lower, select_for_downgrade=True) -> mig-downgrade --to lower from rows upper
  (inclusive=False, as the commands call them)
  get_revision(x), get_revisions(x) of revisions, or an error -> mig-stamp --purge x
  iterate_revisions(upper, lower, inclusive=True)            -> mig-status --history -r lower:upper
  (the call `alembic history -r` makes; the revisions in Alembic's order,
   or a refusal where the test expects an error)
  heads, bases read by the test (as sets: the order is the map's loading order)
                                                             -> mig-status --history: the lines
                                                                marked (head) or (effective head),
                                                                the lines from <base>
  a map the test expects to be refused (a cycle or a self-loop)
                                                             -> mig-verify --lint-only refuses it

Every other call a test makes of these, and of the API-only functions in
API_ONLY, is written under "not_expressible" with the reason no mig command
can make it (a loop of one API-only call is one entry, with its count).

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

CASES, GRAPHS, NOT_EXPRESSIBLE = [], {}, []
state = {"depth": 0, "test": None}


def graph_key(map_, revisions=None):
    revs = []
    if revisions is None:
        revisions = map_._revision_map.values()
    for rev in revisions:
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
        except Exception as e:
            state["depth"] -= 1
            if state["depth"] != 0:
                raise
            if name != "iterate_revisions":
                if state["test"]:
                    record(self, name, args, kw, e)
                raise
            if state["test"]:
                record(self, name, args, kw, e)

            def lazily(err=e):  # the test expects the error when it iterates
                raise err
                yield
            return lazily()
        state["depth"] -= 1
        if state["depth"] == 0 and state["test"]:
            record(self, name, args, kw, result)
        return result
    return call


def wrap_set(name):
    """RevisionMap.heads and .bases, recorded when the test reads them."""
    real = RevisionMap.__dict__[name].fget
    key = "_ported_" + name

    def get(self):
        if key not in self.__dict__:
            state["depth"] += 1
            try:
                self.__dict__[key] = real(self)
            finally:
                state["depth"] -= 1
        if state["depth"] == 0 and state["test"]:
            CASES.append({"test": state["test"], "graph": graph_key(self), "command": name,
                          "target": [], "rows": [], "steps": None,
                          "after": sorted(self.__dict__[key])})
        return self.__dict__[key]

    def put(self, value):  # add_revision sets them
        self.__dict__[key] = value
    return property(get, put)


API_ONLY = {
    "filter_for_lineage": "which of the given revisions share a branch's lineage: "
                          "no command prints it",
    "_get_ancestor_nodes": "an internal walk (ancestors of a set): no command prints it",
    "_get_descendant_nodes": "an internal walk (descendants of a set): no command prints it",
    "_get_base_revisions": "the bases under a name: no command prints them by name",
    "_topological_sort": "an internal sort of a given set: no command sorts a set it is given",
}


def wrap_api_only(name, why):
    real = getattr(RevisionMap, name)

    def call(self, *args, **kw):
        if state["depth"] == 0 and state["test"]:
            not_expressible(name, args, kw, why)
        state["depth"] += 1
        try:
            return real(self, *args, **kw)
        finally:
            state["depth"] -= 1
    return call


def not_expressible(name, args, kw, why):
    call = "%s(%s)" % (name, ", ".join(
        [repr(a) for a in args] + ["%s=%r" % kv for kv in sorted(kw.items())]))
    for seen in NOT_EXPRESSIBLE if name in API_ONLY else ():
        if seen["test"] == state["test"] and seen["call"].startswith(name + "("):
            seen["calls"] += 1  # a loop of them (LargeMapTest): one entry, counted
            return
    NOT_EXPRESSIBLE.append({"test": state["test"], "call": call, "calls": 1, "why": why})


def history_case(map_, args, kw, result):
    """iterate_revisions as `alembic history -r lower:upper` calls it, or why not."""
    upper, lower = args[0], args[1]
    if not kw.get("inclusive", False) and not (
            isinstance(result, Exception) and not kw.get("implicit_base")
            and not kw.get("select_for_downgrade")):
        # (a range the test expects refused is refused by history, or not,
        # whether or not its ends are included: checked below)
        return "inclusive=False, but not as upgrade (implicit_base, lower the " \
            "database rows) or downgrade (select_for_downgrade, upper the rows) " \
            "call it, and history includes both ends of its range"
    if kw.get("implicit_base") or kw.get("select_for_downgrade"):
        return "implicit_base or select_for_downgrade with inclusive=True: no command walks so"
    for end in (upper, lower):
        if end is not None and not isinstance(end, str):
            return "an end of several revisions: -r takes one name at each end"
    if upper is None or upper == "":
        return "an upper end of None: -r X: means heads, where None is the empty revision"
    lower_s = lower or "base"  # -r :X means base, as None is
    # what history does: assert_relative_length=False
    state["depth"] += 1
    try:
        hist = [r.revision for r in RevisionMap.__dict__["_real_iterate"](
            map_, upper, lower_s, inclusive=True, assert_relative_length=False)]
    except Exception:  # noqa: BLE001
        hist = None
    finally:
        state["depth"] -= 1
    got = None if isinstance(result, Exception) else [r.revision for r in result]
    if hist != got:
        return "history -r %s:%s gives %s (it does not check the range's " \
            "direction, assert_relative_length=False)" % (lower_s, upper, hist or "an error")
    CASES.append({"test": state["test"], "graph": graph_key(map_), "command": "history",
                  "target": [lower_s, upper], "rows": [], "steps": None,
                  "after": got, "error": None if got is not None else type(result).__name__})
    return None


def record(map_, name, args, kw, result):
    before = len(CASES)
    if not isinstance(result, Exception) or name != "iterate_revisions":
        record_command(map_, name, args, kw, result)
    if len(CASES) == before:
        if name in ("get_revision", "get_revisions"):
            not_expressible(name, args, kw, "%s of %r: it names no revision, is not "
                            "one name, or is refused by get_revision only for naming "
                            "several (a stamp takes them all); no command shows what "
                            "it returns" % (name, args[0]))
        else:
            why = history_case(map_, args, kw, result)
            if why:
                not_expressible(name, args, kw, why)


def names_several(map_, spec):
    """get_revisions(spec) answers (get_revision refused only for there being several)."""
    state["depth"] += 1
    try:
        return len(RevisionMap._real_get_revisions(map_, spec)) > 1
    except Exception:  # noqa: BLE001
        return False
    finally:
        state["depth"] -= 1


def record_command(map_, name, args, kw, result):
    if name in ("get_revision", "get_revisions"):
        if not isinstance(args[0], str):
            return
        if isinstance(result, Exception):  # the test expects it refused
            if name == "get_revision" and names_several(map_, args[0]):
                return  # a stamp takes them all
            CASES.append({"test": state["test"], "graph": graph_key(map_),
                          "command": "stamp", "target": [args[0]], "rows": [],
                          "purge": True, "steps": None, "after": None,
                          "error": type(result).__name__})
            return
        revs = [result] if name == "get_revision" else list(result)
        if revs and all(isinstance(r, Revision) for r in revs):
            CASES.append({"test": state["test"], "graph": graph_key(map_),
                          "command": "stamp", "target": [args[0]], "rows": [],
                          "purge": True, "steps": [],
                          "after": sorted(r.revision for r in revs)})
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
    RevisionMap._real_iterate = RevisionMap.iterate_revisions
    RevisionMap._real_get_revisions = RevisionMap.get_revisions
    for name in ("iterate_revisions", "get_revision", "get_revisions"):
        setattr(RevisionMap, name, wrap(name))
    for name in ("heads", "bases"):
        setattr(RevisionMap, name, wrap_set(name))
    for name, why in API_ONLY.items():
        setattr(RevisionMap, name, wrap_api_only(name, why))
    real_add = RevisionMap.add_revision

    def add_revision(self, *args, **kw):  # what it reads of the map is not the test's
        state["depth"] += 1
        try:
            return real_add(self, *args, **kw)
        finally:
            state["depth"] -= 1
    RevisionMap.add_revision = add_revision
    invalid = mod.InvalidRevisionMapTest
    real_raises = invalid._assert_raises_revision_map

    real_init = Revision.__init__

    def unchecked_init(rev, revision, down_revision, dependencies=None, branch_labels=None):
        # a self-loop is refused as the Revision is made; keep it to write the graph
        real_init(rev, revision, None, None, branch_labels)
        rev.down_revision, rev.dependencies = down_revision, dependencies

    def raises(self, map_, except_cls, msg):
        real_raises(self, map_, except_cls, msg)
        Revision.__init__ = unchecked_init
        try:
            revs = list(map_._generator())
        finally:
            Revision.__init__ = real_init
        CASES.append({"test": state["test"], "command": "lint", "target": [], "rows": [],
                      "graph": graph_key(None, revs), "steps": None,
                      "after": None, "error": except_cls.__name__})
    invalid._assert_raises_revision_map = raises
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
                before, before_ne = len(CASES), len(NOT_EXPRESSIBLE)
                getattr(obj, t)()
            except Exception as e:  # noqa: BLE001
                if state["test"]:
                    del CASES[before:]
                    del NOT_EXPRESSIBLE[before_ne:]
                    print("skipped %s: %s" % (state["test"], e), file=sys.stderr)
            state["test"] = None
    with open(out, "w") as f:
        json.dump({"source": "alembic rel_1_8_1 tests/test_revision.py",
                   "graphs": {gid: revs for gid, revs in GRAPHS.values()},
                   "cases": CASES, "not_expressible": NOT_EXPRESSIBLE}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
