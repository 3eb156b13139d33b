#!/usr/bin/python3
"""Alembic's own traversal cases, run against mig.

usage: alembic_cases.py --bin DIR FIXTURE

FIXTURE is test/fixtures/alembic_traversal_cases.json (the graphs and the
upgrade, downgrade and stamp cases of Alembic 1.8.1's
tests/test_version_traversal.py, ported by
test/test_helper/port_alembic_cases.py) or
test/fixtures/alembic_revision_cases.json (the RevisionMap calls of its
tests/test_revision.py that a mig command can make, ported by
test/test_helper/port_alembic_revision_cases.py, with the calls no command
can make listed under "not_expressible"), with what Alembic's tests
expect.  Each upgrade, downgrade and stamp runs as a user runs mig,
on a SQLite file holding the case's starting rows; the steps mig applies (each
migration logs itself) and the rows after must be Alembic's.  A history case
is `mig-status --history -r LOWER:UPPER`, which must list Alembic's revisions
in Alembic's order, or refuse (exit 2) where Alembic raises; heads and bases
are the revisions mig-status --history marks "(head)" or "(effective head)"
and those it shows from "<base>"; a lint case is a map Alembic refuses (a
cycle, a self-loop), which mig-verify --lint-only must refuse (exit 1).  Where Alembic's
test expects an error, mig must refuse; where it expects Alembic's
"ambiguous" warning, mig must refuse with exit 4 (README.md, "Where mig and
Alembic differ", 1); rows of which one is an ancestor of another are refused
with exit 4 (2 there).  Prints one line per case that fails and a summary;
exits 1 if any failed.
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

DIVERGENCE = "documented divergence"
# Cases mig fails today, each with the report: counted apart, and a failure
# once mig passes them (then the entry goes).
KNOWN_BUGS = {
}
LOG_TABLE = ("CREATE TABLE IF NOT EXISTS steps "
             "(seq INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);")


def write_graph(revs, folder):
    os.makedirs(os.path.join(folder, "versions"))
    for i, r in enumerate(revs):
        # named in Alembic's reading order, which breaks ties in its sort
        with open(os.path.join(folder, "versions", "%04d_%s.sql" % (i, r["id"])), "w") as f:
            f.write("-- revision: %s\n-- down_revision: %s\n" %
                    (r["id"], ", ".join(r["down"]) or "none"))
            if r["labels"]:
                f.write("-- branch_labels: %s\n" % ", ".join(r["labels"]))
            if r["deps"]:
                f.write("-- depends_on: %s\n" % ", ".join(r["deps"]))
            for kind in ("upgrade", "downgrade"):
                f.write("\n-- +%s\n%s\nINSERT INTO steps (what) VALUES ('%s %s');\n" %
                        (kind, LOG_TABLE, "up" if kind == "upgrade" else "down", r["id"]))


def run_listing(bindir, folder, case):
    """history: the revisions mig-status --history lists, in order; lint: a refusal."""
    if case["command"] == "lint":
        argv = [os.path.join(bindir, "mig-verify"), "--lint-only", "-m", folder]
        what = "mig-verify --lint-only of a map Alembic refuses (%s)" % case["error"]
    elif case["command"] in ("heads", "bases"):
        rng = "base:heads"
        what = "the %s mig-status --history marks" % case["command"]
        argv = [os.path.join(bindir, "mig-status"), "--history", "-m", folder]
    else:
        rng = "%s:%s" % tuple(case["target"])
        argv = [os.path.join(bindir, "mig-status"), "--history", "-m", folder, "-r", rng]
        what = "history -r " + rng
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if "Sanitizer" in p.stderr or "runtime error:" in p.stderr:
        return "%s: %s" % (what, p.stderr)
    if case["command"] == "lint":  # a finding, on standard output
        if p.returncode != 1 or "error: revisions form a cycle" not in p.stdout:
            return "%s: exit %d: %s" % (what, p.returncode, p.stdout.strip())
        return None
    if case.get("error"):
        if p.returncode != 2 or not p.stderr:
            return "%s: Alembic refuses (%s), mig exit %d" % (what, case["error"],
                                                             p.returncode)
        return None
    if p.returncode != 0:
        return "%s: mig exit %d: %s" % (what, p.returncode, p.stderr.strip())
    # "<base> -> a (head), msg" and "a, b -> c (mergepoint)": the revision after "->"
    lines = [line for line in p.stdout.splitlines() if " -> " in line]
    got = [line.split(" -> ", 1)[1].split(" ")[0].rstrip(",") for line in lines]
    if case["command"] == "heads":
        got = sorted(r for r, line in zip(got, lines)
                     if " (head)" in line or " (effective head)" in line)
    elif case["command"] == "bases":
        got = sorted(r for r, line in zip(got, lines) if line.startswith("<base> -> "))
    if got != case["after"]:
        return "%s: mig lists %s, Alembic's test expects %s" % (what, got, case["after"])
    return None


def run_case(bindir, folder, db, case):
    if case["command"] in ("history", "lint", "heads", "bases"):
        return run_listing(bindir, folder, case)
    if os.path.exists(db):
        os.remove(db)
    con = sqlite3.connect(db)
    if case["rows"] or case["command"] == "stamp":
        con.execute(LOG_TABLE)  # a stamp needs a database with tables
    con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
    con.executemany("INSERT INTO alembic_version VALUES (?)", [(r,) for r in case["rows"]])
    con.commit()
    common = ["-d", "sqlite:///" + db, "-m", folder, "--no-history", "-q"]
    if case["command"] == "stamp":
        argv = [os.path.join(bindir, "mig-stamp"), "--force", "--no-verify"] + \
            (["--purge"] if case.get("purge") else []) + common + ["--"] + case["target"]
    else:
        argv = [os.path.join(bindir, "mig-" + case["command"]),
                "--to=" + case["target"][0]] + common
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    con.execute(LOG_TABLE)
    steps = [r[0].split(" ") for r in con.execute("SELECT what FROM steps ORDER BY seq")]
    rows = sorted(r[0] for r in con.execute("SELECT version_num FROM alembic_version"))
    con.close()
    what = "%s %s from [%s]" % (case["command"], " ".join(case["target"]), ", ".join(case["rows"]))
    if "Sanitizer" in p.stderr or "runtime error:" in p.stderr:
        return "%s: %s" % (what, p.stderr)
    if case.get("error"):
        if p.returncode == 0:
            return "%s: Alembic refuses (%s), mig did it" % (what, case["error"])
        return None
    if case.get("warned"):
        if p.returncode != 4:
            return "%s: Alembic guesses; mig must refuse with exit 4, got %d" % (what, p.returncode)
        return None
    if p.returncode == 4 and "holds overlapping rows" in p.stderr:
        return DIVERGENCE  # README.md, "Where mig and Alembic differ", 2
    if p.returncode != 0:
        return "%s: mig exit %d: %s" % (what, p.returncode, p.stderr.strip())
    want_steps = [[s[1], s[0]] for s in case["steps"]] if case["steps"] is not None else None
    if want_steps is not None and steps != want_steps:
        return "%s: steps %s, Alembic's test expects %s" % (what, steps, want_steps)
    if rows != case["after"]:
        return "%s: rows %s, Alembic's test expects %s" % (what, rows, case["after"])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("fixture")
    args = ap.parse_args()
    with open(args.fixture) as f:
        data = json.load(f)
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    failed = skipped = diverged = known_bugs = 0
    with tempfile.TemporaryDirectory(prefix="alembic-cases.", dir=shm) as work:
        for name, revs in data["graphs"].items():
            write_graph(revs, os.path.join(work, name))
        for i, case in enumerate(data["cases"]):
            if case["command"] in ("upgrade", "downgrade") and \
                    not isinstance(case["target"][0], str):
                skipped += 1  # several targets at once: no command line has that
                continue
            why = run_case(args.bin, os.path.join(work, case["graph"]),
                           os.path.join(work, "db%d.sqlite" % i), case)
            known = KNOWN_BUGS.get((case["test"], case["command"], ":".join(case["target"])))
            if known and why:
                known_bugs += 1
                print("KNOWN BUG %s: %s (%s)" % (case["test"], why.splitlines()[0], known))
                continue
            if known:
                why = "passes now: take it out of KNOWN_BUGS"
            if why == DIVERGENCE:
                diverged += 1
            elif why:
                failed += 1
                print("FAIL %s: %s" % (case["test"], why))
    if data.get("not_expressible"):
        print("%d further calls of Alembic's tests no mig command can make "
              "(%d entries, with the reasons, in %s)" % (
                  sum(n["calls"] for n in data["not_expressible"]),
                  len(data["not_expressible"]), os.path.basename(args.fixture)))
    print("%d of Alembic's cases, %d run, %d failed, %d a documented divergence, "
          "%d a known mig bug (%d name several upgrade or downgrade targets at once, "
          "which no command line can)" % (len(data["cases"]), len(data["cases"]) - skipped,
                                         failed, diverged, known_bugs, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
