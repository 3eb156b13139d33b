"""Ports Alembic's own traversal test cases into a fixture for mig.

Usage: /usr/bin/python3 port_alembic_cases.py TEST_VERSION_TRAVERSAL_PY test/fixtures/alembic_cases.json

TEST_VERSION_TRAVERSAL_PY is tests/test_version_traversal.py of Alembic's
repository at the tag of the installed Alembic (rel_1_8_1:
`git show rel_1_8_1:tests/test_version_traversal.py`).  Every test class is
set up and every test run, as Alembic's own suite runs them, against the
installed Alembic; each upgrade, downgrade and stamp that a test asks for is
recorded with the graph it ran on, the rows it started from, and what
Alembic's test expects: the steps in order and the rows after, or the error.
Only cases whose own assertions pass on the installed Alembic are kept.
"""
import importlib.util
import json
import sys

import sqlalchemy.testing.config as sa_config


class _NoPlugin:  # sqlalchemy.testing's fixtures want a pytest plugin; none here
    def __getattr__(self, name):
        return lambda *a, **k: (lambda x: x)


sa_config._fixture_functions = _NoPlugin()

from alembic import util  # noqa: E402
from alembic.migration import HeadMaintainer  # noqa: E402
from alembic.testing import mock  # noqa: E402

CASES = []
GRAPHS = {}
current = {"graph": None, "test": None}


def graph_of(env):
    revs = []
    for rev in env.revision_map._revision_map.values():
        if rev is None or rev.revision in [r["id"] for r in revs]:
            continue
        revs.append({"id": rev.revision,
                     "down": list(util.to_tuple(rev.down_revision, default=())),
                     "labels": sorted(rev._orig_branch_labels or ()),
                     "deps": list(util.to_tuple(rev.dependencies, default=()))})
    return revs


def steps_of(revs):
    return [[s.revision.revision, "up" if s.is_upgrade else "down"] for s in revs]


def main(path, out):
    spec = importlib.util.spec_from_file_location("tvt", path)
    tvt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tvt)
    base = tvt.MigrationTest

    def record(kind, dest, source, expected=None, heads=None, error=None, warned=False):
        CASES.append({"test": current["test"], "graph": current["graph"], "command": kind,
                      "target": dest if isinstance(dest, list) else [dest],
                      "rows": sorted(util.to_tuple(source, default=())),
                      "steps": expected, "after": sorted(heads) if heads is not None else None,
                      "error": error, "warned": warned})

    orig_up, orig_down = base._assert_upgrade, base._assert_downgrade

    def assert_upgrade(self, dest, source, expected, heads):
        orig_up(self, dest, source, expected, heads)
        record("upgrade", dest, source, steps_of(expected), heads, warned=bool(current.get("warn")))

    def assert_downgrade(self, dest, source, expected, heads):
        orig_down(self, dest, source, expected, heads)
        record("downgrade", dest, source, steps_of(expected), heads, warned=bool(current.get("warn")))

    base._assert_upgrade, base._assert_downgrade = assert_upgrade, assert_downgrade

    real_raises = tvt.assert_raises_message

    def raises(exc, msg, fn, *args, **kw):
        real_raises(exc, msg, fn, *args, **kw)
        kind = {"_upgrade_revs": "upgrade", "_downgrade_revs": "downgrade",
                "_stamp_revs": "stamp"}.get(getattr(fn, "__name__", ""))
        if kind and kind != "stamp":
            record(kind, args[0], args[1], error=msg)

    tvt.assert_raises_message = raises

    real_warnings = tvt.expect_warnings

    class warn_ctx:
        def __init__(self, *a, **k):
            self.inner = real_warnings(*a, **k)

        def __enter__(self):
            current["warn"] = True
            return self.inner.__enter__()

        def __exit__(self, *exc):
            current["warn"] = False
            return self.inner.__exit__(*exc)

    tvt.expect_warnings = warn_ctx

    for name in sorted(n for n in dir(tvt) if isinstance(getattr(tvt, n), type)):
        cls = getattr(tvt, name)
        if not issubclass(cls, base) or cls is base:
            continue
        cls.setup_class()
        env = cls.env
        GRAPHS[name] = graph_of(env)
        current["graph"] = name
        real_stamp = env._stamp_revs

        def stamp(revision, heads, _real=real_stamp):
            steps = _real(revision, heads)
            hm = HeadMaintainer(mock.Mock(), set(util.to_tuple(heads, default=())))
            try:
                for s in steps:
                    hm.update_to_step(s)
                record("stamp", list(util.to_tuple(revision, default=("base",))), heads,
                       heads=hm.heads)
            except Exception as e:  # noqa: BLE001
                record("stamp", list(util.to_tuple(revision)), heads, error=repr(e))
            return steps

        env._stamp_revs = stamp
        for test in sorted(t for t in dir(cls) if t.startswith("test_")):
            current["test"] = "%s.%s" % (name, test)
            before = len(CASES)
            try:
                getattr(cls(), test)()
            except Exception as e:  # noqa: BLE001
                del CASES[before:]  # its own assertions fail here: not kept
                print("skipped %s: %s" % (current["test"], e), file=sys.stderr)
        env._stamp_revs = real_stamp
        cls.teardown_class()
    with open(out, "w") as f:
        json.dump({"source": "alembic rel_1_8_1 tests/test_version_traversal.py",
                   "graphs": GRAPHS, "cases": CASES}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
