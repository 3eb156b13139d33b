#!/usr/bin/python3
"""Differential test: mig against the real Alembic (Debian's python3-alembic).

Generates random revision graphs (branches, merges, depends_on, branch
labels, several bases) and random command sequences (upgrade, downgrade,
stamp, with targets of every form Alembic accepts), runs each command with
Alembic (in this process, through its own command API) and with mig (the
real programs, as a user runs them), from the same version rows of one
SQLite file, and compares:

  - whether the command was refused,
  - the version rows afterwards,
  - the steps applied, in order (each migration logs itself in a table).

A disagreement that is not one of the deliberate divergences documented in
README.md ("Where mig and Alembic differ") is printed with the graph and the
commands that reproduce it, and the exit status is 1.

usage: alembic_diff.py --bin DIR --seed N --commands N [--work DIR]
"""

import argparse
import contextlib
import io
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import traceback
import warnings

from alembic import command
from alembic.config import Config
from alembic.script.base import Script

# mig reads a folder in file-name order; Alembic in os.listdir order, which
# the file system decides.  Both break ties by that order, so Alembic is
# made to read in file-name order too.
_list_py_dir = Script._list_py_dir.__func__
Script._list_py_dir = classmethod(
    lambda cls, scriptdir, path: sorted(_list_py_dir(cls, scriptdir, path)))

ENV_PY = """\
from alembic import context
context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
"""

HEX = "0123456789abcdef"

# Each migration logs itself.  The migrations create the log table, so that
# a database with no version rows has no table and is not legacy to mig.
LOG_TABLE = ("CREATE TABLE IF NOT EXISTS steps "
             "(seq INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);")


# ---- graphs ------------------------------------------------------------------

class Graph:
    def __init__(self, rng, size):
        self.revs = []          # dicts: id, down, deps, labels
        ids = set()
        nlabels = 0
        for i in range(size):
            while True:
                rid = "".join(rng.choice(HEX) for _ in range(rng.choice((4, 5, 6))))
                if rid not in ids and rid[0].isalpha():
                    break
            ids.add(rid)
            down = []
            if self.revs and rng.random() > 0.08:
                down.append(rng.choice(self.revs)["id"])
                if len(self.revs) > 2 and rng.random() < 0.15:
                    other = rng.choice(self.revs)["id"]
                    if other != down[0] and not self.related(other, down[0]):
                        down.append(other)
            deps = []
            if len(self.revs) > 2 and rng.random() < 0.12:
                dep = rng.choice(self.revs)
                if dep["id"] not in down:
                    deps.append(rng.choice(dep["labels"]) if dep["labels"] and
                                rng.random() < 0.3 else dep["id"])
            labels = []
            if rng.random() < 0.15:
                nlabels += 1
                labels.append("lb%s%d" % (rng.choice(("x", "y", "z")), nlabels))
            self.revs.append({"id": rid, "down": down, "deps": deps,
                              "labels": labels})

    def ancestors(self, rid, deps=True):
        by = {r["id"]: r for r in self.revs}
        for r in self.revs:
            for lb in r["labels"]:
                by[lb] = r
        seen, todo = set(), [rid]
        while todo:
            x = by[todo.pop()]["id"]
            if x in seen:
                continue
            seen.add(x)
            todo.extend(by[x]["down"])
            if deps:
                todo.extend(by[x]["deps"])
        return seen

    def related(self, a, b):
        return a in self.ancestors(b, False) or b in self.ancestors(a, False)

    def write(self, mig_dir, alembic_dir):
        os.makedirs(os.path.join(mig_dir, "versions"))
        os.makedirs(os.path.join(alembic_dir, "versions"))
        with open(os.path.join(alembic_dir, "env.py"), "w") as f:
            f.write(ENV_PY)
        for r in self.revs:
            rid = r["id"]
            with open(os.path.join(mig_dir, "versions", rid + "_m.sql"), "w") as f:
                f.write("-- revision: %s\n" % rid)
                f.write("-- down_revision: %s\n" % (", ".join(r["down"]) or "none"))
                if r["labels"]:
                    f.write("-- branch_labels: %s\n" % ", ".join(r["labels"]))
                if r["deps"]:
                    f.write("-- depends_on: %s\n" % ", ".join(r["deps"]))
                f.write("\n-- +upgrade\n%s\nINSERT INTO steps (what) VALUES ('up %s');\n"
                        "\n-- +downgrade\n%s\nINSERT INTO steps (what) VALUES ('down %s');\n"
                        % (LOG_TABLE, rid, LOG_TABLE, rid))
            down = (None if not r["down"] else repr(r["down"][0]) if
                    len(r["down"]) == 1 else repr(tuple(r["down"])))
            with open(os.path.join(alembic_dir, "versions", rid + "_m.py"), "w") as f:
                f.write("from alembic import op\n\n")
                f.write("revision = %r\ndown_revision = %s\n" % (rid, down))
                f.write("branch_labels = %s\n" % (repr(tuple(r["labels"])) if r["labels"] else None))
                f.write("depends_on = %s\n\n" % (repr(tuple(r["deps"])) if r["deps"] else None))
                f.write("def upgrade():\n    op.execute(%r)\n"
                        "    op.execute(\"INSERT INTO steps (what) VALUES ('up %s')\")\n\n"
                        "def downgrade():\n    op.execute(%r)\n"
                        "    op.execute(\"INSERT INTO steps (what) VALUES ('down %s')\")\n"
                        % (LOG_TABLE, rid, LOG_TABLE, rid))

    def describe(self):
        out = []
        for r in self.revs:
            s = "  %s <- %s" % (r["id"], ", ".join(r["down"]) or "(base)")
            if r["deps"]:
                s += "  depends_on %s" % ", ".join(r["deps"])
            if r["labels"]:
                s += "  labels %s" % ", ".join(r["labels"])
            out.append(s)
        return "\n".join(out)


# ---- targets -------------------------------------------------------------------

def random_target(rng, g, kind):
    rev = rng.choice(g.revs)["id"]
    labels = [lb for r in g.revs for lb in r["labels"]]
    label = rng.choice(labels) if labels else rev
    n = rng.choice((1, 1, 1, 2, 2, 3, 5))
    prefix = rev[:rng.choice((2, 3, 4))]
    forms = {
        "upgrade": ["head", "heads", "base", rev, rev, prefix, label, label + "@head",
                    label + "@heads", label + "@base", label + "@" + rev, "+%d" % n,
                    "%s+%d" % (rev, n), "%s@+%d" % (label, n), "base+%d" % n,
                    "%s@base+%d" % (label, n), "head-%d" % n, "%s-%d" % (rev, n)],
        "downgrade": ["base", "base", rev, rev, rev, prefix, label, label + "@" + rev,
                      label + "@base", "-%d" % n, "-1", "%s-%d" % (rev, n),
                      "%s@-%d" % (label, n), "%s@head-%d" % (label, n),
                      "head-%d" % n, "%s+%d" % (rev, n), "base+%d" % n, "heads",
                      "head"],
        "stamp": ["head", "heads", "base", rev, rev, rev, prefix, label,
                  label + "@head", label + "@base", label + "@" + rev],
    }[kind]
    return rng.choice(forms)


def random_command(rng, g):
    kind = rng.choice(("upgrade", "upgrade", "downgrade", "downgrade", "stamp"))
    if kind == "stamp":
        specs = [random_target(rng, g, "stamp")]
        if rng.random() < 0.3:
            specs.append(random_target(rng, g, "stamp"))
        return (kind, specs, rng.random() < 0.25)
    return (kind, [random_target(rng, g, kind)], False)


def show(cmd):
    kind, specs, purge = cmd
    return "%s %s%s" % (kind, " ".join(specs), " --purge" if purge else "")


# ---- running ---------------------------------------------------------------------

def set_rows(path, rows):
    db = sqlite3.connect(path)
    db.execute("DROP TABLE IF EXISTS steps")
    if rows:
        db.execute(LOG_TABLE)
    db.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, "
               "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
    db.execute("DELETE FROM alembic_version")
    db.executemany("INSERT INTO alembic_version VALUES (?)", [(r,) for r in rows])
    db.commit()
    db.close()


def read_state(path):
    db = sqlite3.connect(path)
    rows = sorted(r[0] for r in db.execute("SELECT version_num FROM alembic_version"))
    db.execute(LOG_TABLE)
    steps = [r[0] for r in db.execute("SELECT what FROM steps ORDER BY seq")]
    db.close()
    return rows, steps


def run_alembic(engine, alembic_dir, cmd):
    """(refused, warned, message)"""
    kind, specs, purge = cmd
    cfg = Config()
    cfg.set_main_option("script_location", alembic_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:  # engine.begin() rolls back what a failed command did
            with engine.begin() as conn, contextlib.redirect_stdout(io.StringIO()):
                cfg.attributes["connection"] = conn
                if kind == "upgrade":
                    command.upgrade(cfg, specs[0])
                elif kind == "downgrade":
                    command.downgrade(cfg, specs[0])
                else:
                    command.stamp(cfg, specs, purge=purge)
        except Exception as e:  # any refusal, as a user sees it
            where = "bookkeeping " if "update_to_step" in traceback.format_exc() else ""
            return True, False, "%s%s: %s" % (where, type(e).__name__, e)
        warned = any("ambiguous" in str(w.message) for w in caught)
        return False, warned, ""


def run_mig(bindir, mig_dir, db_path, cmd):
    kind, specs, purge = cmd
    url = "sqlite:///" + db_path
    base = ["-d", url, "-m", mig_dir, "--no-history", "-q"]
    if kind == "upgrade":
        argv = [os.path.join(bindir, "mig-upgrade"), "--to=" + specs[0]] + base
    elif kind == "downgrade":
        argv = [os.path.join(bindir, "mig-downgrade"), "--to=" + specs[0]] + base
    else:
        argv = [os.path.join(bindir, "mig-stamp"), "--force", "--no-verify"] + \
            (["--purge"] if purge else []) + base + ["--"] + specs
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stderr.strip()


def overlapping(g, rows):
    return any(a != b and a in g.ancestors(b) for a in rows for b in rows)


def divergence(g, cmd, rows_before, alembic, mig_rc, mig_msg, alembic_state):
    """The documented divergence that explains a difference, or None."""
    refused, warned, _ = alembic
    kind = cmd[0]
    # 1. downgrade -N from several rows: Alembic guesses, mig refuses (exit 4)
    if warned and mig_rc == 4 and "is ambiguous" in mig_msg:
        return "guess"
    # 2. stamping a database with no tables: mig refuses (exit 4), there is
    #    no schema that the stamp could be true of
    if kind == "stamp" and not rows_before and mig_rc == 4 and \
            "has no tables" in mig_msg:
        return "empty-stamp"
    # 3. Alembic's version bookkeeping (HeadMaintainer.update_to_step)
    #    fails on a merge whose depends_on names a revision that is not a
    #    row (KeyError); mig writes the rows Alembic's rules give
    if kind != "stamp" and refused and mig_rc == 0 and \
            alembic[2].startswith("bookkeeping "):
        return "alembic-bookkeeping"
    # 4. rows of which one is an ancestor of another: mig refuses to move them
    if mig_rc == 4 and overlapping(g, rows_before):
        return "overlap"
    # 5. a stamp that would write such rows: mig refuses (exit 2)
    if kind == "stamp" and not refused and mig_rc == 2 and \
            overlapping(g, alembic_state[0]):
        return "stamp-overlap"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--commands", type=int, default=2000)
    ap.add_argument("--per-graph", type=int, default=25)
    ap.add_argument("--work")
    args = ap.parse_args()
    from sqlalchemy import create_engine

    rng = random.Random(args.seed)
    # SQLite commits wait for the disk; in memory the batch runs ten times
    # faster
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    work = args.work or tempfile.mkdtemp(prefix="alembic-diff.", dir=shm)
    done = failures = 0
    counts = {"agree": 0, "refused-both": 0, "guess": 0, "overlap": 0,
              "stamp-overlap": 0, "empty-stamp": 0, "alembic-bookkeeping": 0}
    ngraph = 0
    while done < args.commands:
        ngraph += 1
        g = Graph(rng, rng.randint(3, 30))
        gdir = os.path.join(work, "g%d" % ngraph)
        mig_dir, alembic_dir = os.path.join(gdir, "mig"), os.path.join(gdir, "alembic")
        g.write(mig_dir, alembic_dir)
        db_path = os.path.join(gdir, "db.sqlite")
        engine = create_engine("sqlite:///" + db_path)
        rows = []
        history = []
        for _ in range(min(args.per_graph, args.commands - done)):
            cmd = random_command(rng, g)
            history.append((list(rows), cmd))
            set_rows(db_path, rows)
            alembic = run_alembic(engine, alembic_dir, cmd)
            a_state = read_state(db_path)
            set_rows(db_path, rows)
            mig_rc, mig_msg = run_mig(args.bin, mig_dir, db_path, cmd)
            m_state = read_state(db_path)
            done += 1
            sanitized = "Sanitizer" in mig_msg or "runtime error:" in mig_msg
            if alembic[0] and mig_rc and not sanitized:
                counts["refused-both"] += 1
                continue
            if not alembic[0] and mig_rc == 0 and a_state == m_state:
                counts["agree"] += 1
                rows = a_state[0]
                continue
            why = None if sanitized else divergence(g, cmd, rows, alembic, mig_rc,
                                                    mig_msg, a_state)
            if why:
                counts[why] += 1
                if not overlapping(g, a_state[0]) and not alembic[0]:
                    rows = a_state[0]
                continue
            failures += 1
            print("DISAGREEMENT (seed %d, graph %d)\ngraph:\n%s" % (args.seed, ngraph,
                                                                  g.describe()))
            print("commands (rows before each):")
            for before, c in history:
                print("  [%s] %s" % (", ".join(before) or "base", show(c)))
            print("alembic: %s rows=%s steps=%s %s" % (
                "refused" if alembic[0] else "ok", a_state[0], a_state[1], alembic[2]))
            print("mig:     exit %d rows=%s steps=%s %s" % (mig_rc, m_state[0], m_state[1],
                                                          mig_msg))
            print("files: %s\n" % gdir)
            if not alembic[0]:
                rows = a_state[0]
            if failures >= 10:
                break
        engine.dispose()
        if failures >= 10:
            break
        if not failures:
            shutil.rmtree(gdir)
    print("%d commands on %d graphs (seed %d): %s; %d disagreements" % (
        done, ngraph, args.seed, ", ".join("%s %d" % kv for kv in counts.items()),
        failures))
    if not failures and not args.work:
        shutil.rmtree(work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
