#!/usr/bin/env python3
"""Model-based test of mig's exactly-once promise (issue 15).

Generates random migration histories that mix ordinary revisions with
hostile ones (COMMIT or ROLLBACK inside a transactional section, a
temporary table named like the version table, SET search_path, a
transactional: false section whose second statement fails, one that
sleeps between its statements so that a kill -9 lands inside it, one that
releases mig's lock with DISCARD ALL, session settings that would break the
next migration if they carried over) and runs
mig-upgrade on them again and again with random interruptions (kill -9, a
terminated backend, a lock held by someone else).  After every run it
checks the invariants:

  * the version table holds at most one row, a revision of the chain;
  * each revision up to it left its effects exactly once, none after it
    left any, except what a refused hostile revision said it left;
  * the schema equals a fresh build to that revision;
  * the exit code and message agree with what happened.

After a refusal it does what the hint asks of an operator: undoes what
stayed, removes the offending statement, and runs again (with
--rerun-unfinished when mig refused a transactional: false migration that
an earlier run left unfinished).

  exactly_once_model.py --dialect sqlite|postgresql --seed N --histories N
                        --workdir DIR

PostgreSQL comes from the test harness's MIG_PG_URL_BASE.  Exit status 0
when every invariant held; otherwise the first violation, with the seed,
is printed and the status is 1.
"""
import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

KINDS_BOTH = ["ordinary", "ordinary", "slow", "commit", "rollback", "temp_vt"]
KINDS_PG = ["search_path", "nontx_fail", "nontx_slow", "lock_release", "settings"]
# transactional: false: each statement commits on its own, and a run that
# stops inside one leaves a "started" mark that the next run refuses
NONTX = ("nontx_fail", "nontx_slow", "lock_release")


class Violation(Exception):
    pass


def fnv1a_key(text):
    """mig's advisory lock key (db_pg.c lock_key), as a signed bigint."""
    h = 14695981039346656037
    for b in text.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h - (1 << 64) if h >= 1 << 63 else h


class Db:
    def __init__(self, dialect, workdir, name):
        self.dialect = dialect
        if dialect == "sqlite":
            self.path = os.path.join(workdir, name + ".db")
            self.url = "sqlite:///" + self.path
            sqlite3.connect(self.path).close()
        else:
            import psycopg2
            self.pg = psycopg2
            base = os.environ["MIG_PG_URL_BASE"]
            admin = self.pg.connect(base + "/postgres")
            admin.autocommit = True
            with admin.cursor() as c:
                c.execute('CREATE DATABASE "%s"' % name)
            admin.close()
            self.url = base + "/" + name

    def query(self, sql, params=()):
        if self.dialect == "sqlite":
            con = sqlite3.connect(self.path, timeout=30)
            try:
                rows = con.execute(sql.replace("%s", "?"), params).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        con = self.pg.connect(self.url)
        con.autocommit = True
        try:
            with con.cursor() as c:
                c.execute(sql, params)
                return c.fetchall() if c.description else []
        finally:
            con.close()

    def tables(self):
        if self.dialect == "sqlite":
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' "
                              "AND name NOT LIKE 'sqlite%%'")
        else:
            rows = self.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r[0] for r in rows}

    def version_rows(self):
        if "alembic_version" not in self.tables():
            return None
        return sorted(r[0] for r in self.query("SELECT version_num FROM alembic_version"))

    def effects(self):
        if "effects" not in self.tables():
            return {}
        counts = {}
        for (rev,) in self.query("SELECT rev FROM effects"):
            counts[rev] = counts.get(rev, 0) + 1
        return counts


def up_sql(kind, k, dialect):
    """The upgrade section of revision k of the given kind."""
    table = "public.t%02d" % k if dialect == "postgresql" else "t%02d" % k
    effects = "public.effects" if dialect == "postgresql" else "effects"
    plain = "CREATE TABLE %s (id INTEGER PRIMARY KEY);\nINSERT INTO %s VALUES ('r%02d');" % (
        table, effects, k)
    if kind == "ordinary" and k == 0:
        return "CREATE TABLE %s (rev VARCHAR(32) NOT NULL);\n%s" % (effects, plain)
    if kind == "ordinary":
        return plain
    if kind == "slow":
        if dialect == "postgresql":
            return plain + "\nSELECT pg_sleep(0.2);"
        return plain + ("\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                        "WHERE i < 300000) SELECT count(*) FROM n;")
    if kind == "commit":
        return "INSERT INTO %s VALUES ('r%02d');\nCOMMIT;\nCREATE TABLE %s (id INTEGER PRIMARY KEY);" % (
            effects, k, table)
    if kind == "rollback":
        return "INSERT INTO %s VALUES ('r%02d');\nROLLBACK;\nCREATE TABLE %s (id INTEGER PRIMARY KEY);" % (
            effects, k, table)
    if kind == "temp_vt":
        return ("CREATE TEMP TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL);\n"
                "INSERT INTO alembic_version VALUES ('bogus');\n" + plain)
    if kind == "search_path":
        return "CREATE SCHEMA IF NOT EXISTS sp%02d;\nSET search_path TO sp%02d, public;\n%s" % (
            k, k, plain)
    if kind == "nontx_fail":
        return "INSERT INTO %s VALUES ('r%02d');\nSELECT 1 / 0;" % (effects, k)
    if kind == "nontx_slow":
        return "INSERT INTO %s VALUES ('r%02d');\nSELECT pg_sleep(0.2);\nCREATE TABLE %s (id INTEGER PRIMARY KEY);" % (
            effects, k, table)
    if kind == "lock_release":
        return "INSERT INTO %s VALUES ('r%02d');\nDISCARD ALL;\nCREATE TABLE %s (id INTEGER PRIMARY KEY);" % (
            effects, k, table)
    if kind == "settings":
        # if these reached the next migration, its transaction would be read
        # only and time out at once
        # last, so that they do not cut this migration short
        return (plain + "\nSET search_path TO pg_catalog;\nSET statement_timeout = 100;\n"
                "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;")
    raise ValueError(kind)


class History:
    def __init__(self, rng, dialect, workdir, h):
        self.rng = rng
        self.dialect = dialect
        self.dir = os.path.join(workdir, "h%03d" % h)
        os.makedirs(os.path.join(self.dir, "versions"))
        kinds = KINDS_BOTH + (KINDS_PG if dialect == "postgresql" else [])
        n = rng.randint(3, 6)
        self.kinds = ["ordinary"] + [rng.choice(kinds) for _ in range(n - 1)]
        for k, kind in enumerate(self.kinds):
            self.write(k, kind)
        self.db = Db(dialect, workdir, "m%d_%03d" % (os.getpid(), h))
        self.refused = {}  # k -> what the refusal said stayed (effects rows)
        self.rerun = None  # k: the operator checked unfinished revision k
        # k: a kill landed inside transactional: false revision k after some
        # of it committed; the operator does not know, and the next run must
        # refuse it (exit 4) rather than run it again
        self.expect_unfinished = None

    def write(self, k, kind):
        head = "-- revision: r%02d\n-- down_revision: %s\n" % (k, "r%02d" % (k - 1) if k else "none")
        if kind in NONTX:
            head += "-- transactional: false\n"
        body = "\n-- +upgrade\n%s\n\n-- +downgrade\nSELECT 1;\n" % up_sql(kind, k, self.dialect)
        with open(os.path.join(self.dir, "versions", "r%02d.sql" % k), "w") as f:
            f.write(head + body)

    def fix(self, k):
        """What the operator does after a refusal: undo what stayed, make
        the revision ordinary."""
        effects = self.db.effects()
        if effects.get("r%02d" % k):
            self.db.query("DELETE FROM effects WHERE rev = %s", ("r%02d" % k,))
        if "t%02d" % k in self.db.tables():
            self.db.query("DROP TABLE t%02d" % k)
        if self.kinds[k] in NONTX:
            self.rerun = k
        self.kinds[k] = "ordinary"
        self.write(k, "ordinary")


def mig(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def fresh_dump(cache, h, rows, dialect, workdir, fixed_dir):
    key = rows[0] if rows else "base"
    if key in cache:
        return cache[key]
    db = Db(dialect, workdir, "f%d_%03d_%s" % (os.getpid(), h, key))
    if rows:
        r = mig(["mig-upgrade", "-q", "-m", fixed_dir, "-d", db.url, "--to", key])
        if r.returncode:
            raise Violation("fresh build to %s failed: %s" % (key, r.stderr))
    r = mig(["mig-check-schema", "-d", db.url, "--dump"])
    cache[key] = r.stdout
    return r.stdout


def run_once(hist, rng, interruption):
    """One mig-upgrade with an interruption; returns (code, stderr)."""
    args = ["mig-upgrade", "-q", "-m", hist.dir, "-d", hist.db.url]
    if hist.rerun is not None:
        args.append("--rerun-unfinished")
    if interruption == "lock":
        return run_locked(hist, args)
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if interruption == "kill":
        time.sleep(rng.uniform(0, 0.3))
        p.send_signal(signal.SIGKILL)
    elif interruption == "terminate":
        time.sleep(rng.uniform(0, 0.3))
        try:
            hist.db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                          "AND application_name = 'mig-upgrade'")
        except Exception:  # the run may have ended and the database be busy
            pass
    out, err = p.communicate(timeout=120)
    return p.returncode, err


def run_locked(hist, args):
    """Someone else holds the migration lock: the run must give up (exit 4)
    and change nothing."""
    if hist.dialect == "sqlite":
        con = sqlite3.connect(hist.db.path, timeout=30, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        try:
            r = mig(args + ["--lock-timeout", "0.2"], timeout=120)
        finally:
            con.execute("ROLLBACK")
            con.close()
        return r.returncode, r.stderr
    con = hist.db.pg.connect(hist.db.url)
    con.autocommit = True
    key = fnv1a_key("mig:public.alembic_version")
    with con.cursor() as c:
        c.execute("SELECT pg_advisory_lock(%s)", (key,))
    try:
        r = mig(args + ["--lock-timeout", "0.2"], timeout=120)
    finally:
        con.close()
    return r.returncode, r.stderr


def check(hist, code, err, before, interruption, cache, h, workdir, fixed_dir):
    rows = hist.db.version_rows()
    n = len(hist.kinds)
    ids = ["r%02d" % k for k in range(n)]
    if rows is not None and (len(rows) > 1 or (rows and rows[0] not in ids)):
        raise Violation("version rows %r are not one revision of the chain" % rows)
    at = ids.index(rows[0]) if rows else -1
    effects = hist.db.effects()
    nxt = at + 1
    if code == 0 and at != n - 1:
        raise Violation("exit 0 but the database is at %s, not r%02d" % (rows, n - 1))
    if interruption == "lock":
        if code != 4 or "lock" not in err:
            raise Violation("a held lock gave exit %d: %s" % (code, err))
        if rows != before:
            raise Violation("a run refused for the lock moved %r to %r" % (before, rows))
    if code == 3 and nxt < n:
        kind = hist.kinds[nxt]
        said = {"commit": "committed mig's transaction",
                "rollback": "rolled back mig's transaction",
                "nontx_fail": "division by zero",
                "lock_release": "released mig's migration lock"}.get(kind)
        if said and said in err:
            hist.refused[nxt] = kind
            if "r%02d.sql:" % nxt not in err:
                raise Violation("the refusal of %s does not name its file: %s" % (ids[nxt], err))
        elif interruption not in ("kill", "terminate"):
            raise Violation("exit 3 for %s (%s) without the expected message: %s" % (
                ids[nxt], kind, err))
    # killed between a hostile statement's commit and mig's check of it:
    # what it committed stays, as it would with the message
    if interruption in ("kill", "terminate") and nxt < n and nxt not in hist.refused \
            and hist.kinds[nxt] == "commit" and effects.get(ids[nxt]):
        hist.refused[nxt] = hist.kinds[nxt]
    if interruption in ("kill", "terminate") and nxt < n and nxt not in hist.refused \
            and hist.kinds[nxt] in NONTX and effects.get(ids[nxt]):
        hist.expect_unfinished = nxt
    # a transactional: false migration that an earlier run stopped inside:
    # refused (exit 4) until the operator has checked it
    unfinished = code == 4 and "did not finish" in err
    if unfinished:
        if not (nxt < n and hist.kinds[nxt] in NONTX):
            raise Violation("refused as unfinished, but the next revision is %s: %s" % (
                hist.kinds[nxt] if nxt < n else "none", err))
        if "r%02d.sql lines" % nxt not in err:
            raise Violation("the unfinished refusal does not name the lines: %s" % err)
        if rows != before:
            raise Violation("a run refused as unfinished moved %r to %r" % (before, rows))
        hist.refused[nxt] = hist.kinds[nxt]
        hist.expect_unfinished = None
    elif hist.expect_unfinished is not None and interruption == "none":
        raise Violation("r%02d was left half done by a kill, and the next run did not "
                        "refuse it (exit %d): %s" % (hist.expect_unfinished, code, err))
    if code not in (0, 3, 4, -9, 137):
        raise Violation("unexpected exit %d: %s" % (code, err))
    if code == 4 and interruption != "lock" and not unfinished:
        raise Violation("exit 4 without a held lock: %s" % err)
    if hist.rerun is not None and at >= hist.rerun:
        hist.rerun = None   # recorded: its mark went with its version row
    for k in range(n):
        c = effects.get(ids[k], 0)
        if c > 1:
            raise Violation("%s's effects appear %d times" % (ids[k], c))
        if k <= at and c != 1:
            raise Violation("%s is recorded but its effects appear %d times" % (ids[k], c))
        if k > at and c and k not in hist.refused and k != hist.expect_unfinished:
            raise Violation("%s is not recorded but its effects are there" % ids[k])
    for k in list(hist.refused):
        hist.fix(k)
        del hist.refused[k]
    if hist.expect_unfinished is not None:
        # what the interrupted revision committed stays until the next run
        # has refused it and the operator has undone it; checked then
        return
    got = subprocess.run(["mig-check-schema", "-d", hist.db.url, "--dump"],
                         capture_output=True, text=True).stdout
    want = fresh_dump(cache, h, hist.db.version_rows() or [], hist.dialect, workdir, fixed_dir)
    if got != want:
        raise Violation("at %s the schema is not a fresh build's:\n--- fresh\n%s\n--- live\n%s" % (
            rows, want, got))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dialect", choices=["sqlite", "postgresql"], required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--histories", type=int, default=4)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    interruptions = ["none", "none", "kill", "lock"] + (
        ["terminate"] if a.dialect == "postgresql" else [])
    runs = refusals = kills = unfinished = 0
    for h in range(a.histories):
        hist = History(rng, a.dialect, a.workdir, h)
        fixed_dir = os.path.join(a.workdir, "fixed%03d" % h)
        os.makedirs(os.path.join(fixed_dir, "versions"))
        for k in range(len(hist.kinds)):
            kind = hist.kinds[k] if hist.kinds[k] in ("ordinary", "slow", "temp_vt",
                                                      "search_path") else "ordinary"
            with open(os.path.join(hist.dir, "versions", "r%02d.sql" % k)) as f:
                text = f.read()
            if kind != hist.kinds[k]:
                text = ("-- revision: r%02d\n-- down_revision: %s\n\n-- +upgrade\n%s\n\n"
                        "-- +downgrade\nSELECT 1;\n") % (
                    k, "r%02d" % (k - 1) if k else "none", up_sql("ordinary", k, a.dialect))
            with open(os.path.join(fixed_dir, "versions", "r%02d.sql" % k), "w") as f:
                f.write(text)
        cache = {}
        for attempt in range(40):
            before = hist.db.version_rows()
            interruption = rng.choice(interruptions)
            code, err = run_once(hist, rng, interruption)
            runs += 1
            kills += interruption in ("kill", "terminate")
            try:
                check(hist, code, err, before, interruption, cache, h, a.workdir, fixed_dir)
            except Violation as v:
                print("seed %d, history %d (%s), run %d (%s, exit %d): %s" % (
                    a.seed, h, " ".join(hist.kinds), attempt + 1, interruption, code, v))
                return 1
            refusals += code == 3
            unfinished += code == 4 and "did not finish" in err
            if code == 0:
                break
        else:
            print("seed %d, history %d: never reached head in 40 runs" % (a.seed, h))
            return 1
    print("%s: %d histories, %d runs (%d interrupted, %d refused or failed, %d "
          "refused as unfinished), every invariant held" % (
              a.dialect, a.histories, runs, kills, refusals, unfinished))
    return 0


if __name__ == "__main__":
    sys.exit(main())
