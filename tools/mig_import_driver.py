"""mig-import's driver: runs the user's own Alembic in the user's own Python
and reports, as one JSON document on stdout, what Alembic did.

mig-import (tools/mig-import.c, tools/lib/import.c) runs it; it is not a
program for people.  It never installs anything and touches no database but
the scratch one named by $MIG_IMPORT_URL.

Commands (the Alembic project comes from $MIG_IMPORT_INI, an alembic.ini, or
$MIG_IMPORT_SCRIPTS, a script folder), given as arguments, or one a line on
stdin with "serve" (see serve()):

  probe          the Python and Alembic versions and the script folder
  list           every revision (graph fields, message, create date) and an
                 order to apply them in (bases first, dependencies before
                 dependents)
  step REV up|down
                 applies or reverts exactly REV on the scratch database and
                 records every statement Alembic sends while REV's own
                 upgrade() or downgrade() runs (SQLAlchemy's
                 before_cursor_execute event), so Alembic's version-table
                 bookkeeping is left out: mig does its own.
  step REV up|down skip
                 moves Alembic's version rows past REV as that step would,
                 without running REV's function: after REV raised, so that
                 the rest of the history can still be recorded.

Exit status: 0 with {"ok": true, ...}; 3 with {"ok": false, "kind": ...,
"message": ...}.  "kind" is no-alembic, load, env, version-table or migration.
$MIG_IMPORT_VERSION_TABLE names the version table env.py must give Alembic
(default alembic_version); the minimal env.py uses it.
"""

import contextlib
import json
import os
import re
import sqlite3
import sys

# The answers and the requests get file descriptors of their own: what a
# migration (or a program it runs) writes on fd 1 goes to stderr, and what
# it reads from fd 0 is /dev/null, so neither can mix with the protocol.
REAL_STDOUT = os.fdopen(os.dup(1), "w")
REQUESTS = os.fdopen(os.dup(0), "r")
os.dup2(2, 1)
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)
os.close(_devnull)
sys.stdin = open(os.devnull)


class Answer(Exception):
    """The answer to one command: raised so that a command ends where it
    answers, in one-shot mode and in serve mode alike."""

    def __init__(self, doc, code):
        Exception.__init__(self)
        self.doc, self.code = doc, code


def write_answer(doc):
    doc.setdefault("format", 1)
    REAL_STDOUT.write(json.dumps(doc, ensure_ascii=True) + "\n")
    REAL_STDOUT.flush()


def emit(doc, code=0):
    raise Answer(doc, code)


def fail(kind, message, **more):
    doc = {"ok": False, "kind": kind, "message": message}
    doc.update(more)
    emit(doc, 3)


# A migration may print; only the JSON document goes to mig-import.
sys.stdout = sys.stderr

try:
    import logging

    import sqlalchemy
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import NullPool

    import alembic
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext, RevisionStep
    from alembic.script import ScriptDirectory
except ImportError as e:
    write_answer({"ok": False, "kind": "no-alembic",
                  "message": "cannot import %s in %s: %s" % (e.name, sys.executable, e)})
    sys.exit(3)

logging.disable(logging.CRITICAL)


def load_config():
    ini = os.environ.get("MIG_IMPORT_INI")
    scripts = os.environ.get("MIG_IMPORT_SCRIPTS")
    if ini:
        cfg = Config(ini)
        if not cfg.get_main_option("script_location"):
            fail("load", "%s: no script_location in [alembic]" % ini)
    else:
        cfg = Config()
        cfg.set_main_option("script_location", scripts)
    return cfg


def load_script(cfg):
    try:
        script = ScriptDirectory.from_config(cfg)
        revs = list(script.walk_revisions("base", "heads"))
    except Exception as e:  # Alembic raises many kinds; all mean "cannot load"
        fail("load", "%s: %s" % (type(e).__name__, e))
    return script, revs


def create_date(module):
    m = re.search(r"^Create Date:\s*(.+?)\s*$", module.__doc__ or "", re.M)
    return m.group(1) if m else None


def as_list(v):
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return list(v)


def cmd_probe():
    cfg = load_config()
    emit({
        "ok": True,
        "python": sys.executable,
        "alembic": alembic.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "script_location": ScriptDirectory.from_config(cfg).dir,
    })


def cmd_list():
    cfg = load_config()
    script, revs = load_script(cfg)
    out = []
    for r in reversed(revs):  # walk_revisions goes heads to base
        out.append({
            "id": r.revision,
            "down_revision": as_list(r.down_revision),
            # As declared: Alembic's branch_labels also holds the labels a
            # revision inherits from its branch.
            "branch_labels": sorted(getattr(r, "_orig_branch_labels",
                                            r.branch_labels) or ()),
            "depends_on": as_list(r.dependencies),
            "message": (r.doc or "").strip().splitlines()[0] if r.doc else "",
            "create_date": create_date(r.module),
            "path": r.path,
        })
    emit({"ok": True, "script_location": script.dir,
          "env_py": os.path.exists(os.path.join(script.dir, "env.py")),
          "revisions": out})


READ_RE = re.compile(r"^\s*(SELECT|PRAGMA|WITH|SHOW|EXPLAIN)\b", re.I)
CATALOG_RE = re.compile(r"\b(sqlite_master|sqlite_schema|information_schema|pg_catalog)\b", re.I)


class Recorder:
    def __init__(self):
        self.on = False
        self.statements = []
        self.reads = []
        self.autocommit = False
        self.started = False
        self.quote = sqlite3.connect(":memory:")

    def sqlite_literal(self, value):
        return self.quote.execute("SELECT quote(?)", (value,)).fetchone()[0]

    def inline_sqlite(self, statement, params):
        """The statement as SQLite received it: each ? (outside quotes)
        replaced by SQLite's own quote() of its value."""
        if isinstance(params, dict):
            values = iter([])
            named = params
        else:
            values = iter(params)
            named = None
        out, quote = [], None
        i = 0
        while i < len(statement):
            c = statement[i]
            if quote:
                if c == quote:
                    quote = None
                out.append(c)
            elif c in "'\"`[":
                quote = "]" if c == "[" else c
                out.append(c)
            elif c == "?" and named is None:
                out.append(self.sqlite_literal(next(values)))
            elif c == ":" and named is not None:
                m = re.match(r":(\w+)", statement[i:])
                if m and m.group(1) in named:
                    out.append(self.sqlite_literal(named[m.group(1)]))
                    i += len(m.group(0))
                    continue
                out.append(c)
            else:
                out.append(c)
            i += 1
        return "".join(out)

    def render(self, conn, cursor, statement, parameters, executemany):
        sets = parameters if executemany else [parameters]
        out = []
        for p in sets:
            if not p:
                out.append(statement)
            elif conn.dialect.name == "postgresql":
                text = cursor.mogrify(statement, p)
                out.append(text.decode() if isinstance(text, bytes) else text)
            else:
                out.append(self.inline_sqlite(statement, p))
        return out

    def before(self, conn, cursor, statement, parameters, context, executemany):
        if not self.on:
            return
        for s in self.render(conn, cursor, statement, parameters, executemany):
            s = s.strip().rstrip(";").strip()
            if READ_RE.match(s) or CATALOG_RE.search(s):
                self.reads.append(s)
            self.statements.append(s)


def cmd_step(rev_id, direction, skip=False):
    """One step, everything it changes in this process undone afterwards, so
    that in serve mode each step starts as in a Python of its own (the
    script folder and its modules are loaded anew, as Alembic's own command
    line does)."""
    rec = Recorder()
    original_block = MigrationContext.autocommit_block
    event.listen(Engine, "before_cursor_execute", rec.before)
    try:
        run_step(rev_id, direction, skip, rec)
    finally:
        event.remove(Engine, "before_cursor_execute", rec.before)
        MigrationContext.autocommit_block = original_block
        rec.quote.close()


def run_step(rev_id, direction, skip, rec):
    url = os.environ["MIG_IMPORT_URL"]
    cfg = load_config()
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    script, _ = load_script(cfg)
    rev = script.get_revision(rev_id)
    upgrade = direction == "up"

    # Record only while the revision's own function runs.
    name = "upgrade" if upgrade else "downgrade"
    original = getattr(rev.module, name)

    def recorded(*a, **kw):
        rec.on = rec.started = True
        try:
            return None if skip else original(*a, **kw)
        finally:
            rec.on = False

    setattr(rev.module, name, recorded)

    original_block = MigrationContext.autocommit_block

    @contextlib.contextmanager
    def autocommit_block(self):
        if rec.on:
            rec.autocommit = True
        with original_block(self):
            yield

    MigrationContext.autocommit_block = autocommit_block

    def steps(heads, context):
        return [RevisionStep(script.revision_map, rev, upgrade)]

    env_used, env_error = "minimal", None
    try:
        if os.path.exists(os.path.join(script.dir, "env.py")):
            env_error = run_user_env(cfg, script, steps, url, rec)
            if env_error is None:
                env_used = "env.py"
        if env_used == "minimal":
            run_minimal_env(cfg, script, steps, url)
    except VersionTableMismatch as e:
        fail("version-table", str(e))
    except Exception as e:
        fail("migration", "%s: %s" % (type(e).__name__, e),
             statements=rec.statements, reads=rec.reads,
             autocommit=rec.autocommit)
    emit({"ok": True, "statements": rec.statements, "reads": rec.reads,
          "autocommit": rec.autocommit, "env": env_used, "env_error": env_error})


def same_database(a, b):
    a, b = sqlalchemy.engine.make_url(a), sqlalchemy.engine.make_url(b)
    return (a.get_backend_name(), a.host, a.port, a.database) == \
        (b.get_backend_name(), b.host, b.port, b.database)


def run_user_env(cfg, script, steps, url, rec):
    """Runs the project's env.py.  Returns None when it ran the step, or
    why it could not (then nothing was migrated).  An env.py that connects
    anywhere but the scratch database is stopped in configure(), before
    Alembic touches that database."""
    original_configure = EnvironmentContext.configure

    def configure(self, *a, **kw):
        original_configure(self, *a, **kw)
        ctx = self.get_context()
        bind = getattr(ctx, "connection", None)
        if bind is None or not same_database(str(bind.engine.url), url):
            raise EnvRefused("env.py connects to another database than the scratch one")
        check_version_table(ctx)

    EnvironmentContext.configure = configure
    try:
        with EnvironmentContext(cfg, script, fn=steps):
            script.run_env()
    except VersionTableMismatch:
        raise
    except Exception as e:
        if rec.started:
            raise
        return "%s: %s" % (type(e).__name__, e)
    finally:
        EnvironmentContext.configure = original_configure
    return None if rec.started else "env.py ran no migration"


class EnvRefused(Exception):
    pass


class VersionTableMismatch(Exception):
    pass


VERSION_TABLE = os.environ.get("MIG_IMPORT_VERSION_TABLE") or "alembic_version"


def check_version_table(ctx):
    """mig reads and writes the version table itself: it must be the one
    env.py gives Alembic, or the proof and mig-upgrade would look elsewhere."""
    schema = getattr(ctx, "version_table_schema", None)
    if schema:
        raise VersionTableMismatch(
            "env.py keeps Alembic's version table in schema %s; mig-import "
            "records only a version table on the search path" % schema)
    if ctx.version_table != VERSION_TABLE:
        raise VersionTableMismatch(
            "env.py gives Alembic the version table %s, not %s"
            % (ctx.version_table, VERSION_TABLE))


def run_minimal_env(cfg, script, steps, url):
    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            with EnvironmentContext(cfg, script, fn=steps) as env:
                env.configure(connection=connection, transaction_per_migration=True,
                              version_table=VERSION_TABLE)
                with env.begin_transaction():
                    env.run_migrations()
    finally:
        engine.dispose()


def run_command(argv):
    if argv[:1] == ["probe"]:
        cmd_probe()
    elif argv[:1] == ["list"]:
        cmd_list()
    elif len(argv) in (3, 4) and argv[0] == "step" and argv[2] in ("up", "down") \
            and argv[3:] in ([], ["skip"]):
        cmd_step(argv[1], argv[2], argv[3:] == ["skip"])
    fail("usage", "usage: mig_import_driver.py probe | list | step REV up|down [skip] "
         "| serve")


def serve():
    """serve: one command a line on stdin, {"args": [...], "url": URL or
    null} (the URL here rather than in argv, where the process list shows
    it), one answer a line on stdout, until stdin ends.  One Python start
    for the whole import instead of one per step."""
    for line in REQUESTS:
        try:
            request = json.loads(line)
            url = request.get("url")
            if url:
                os.environ["MIG_IMPORT_URL"] = url
            else:
                os.environ.pop("MIG_IMPORT_URL", None)
            run_command(list(request["args"]))
        except Answer as a:
            write_answer(a.doc)
        except Exception as e:  # the driver's own failure: still one answer
            write_answer({"ok": False, "kind": "load",
                          "message": "%s: %s" % (type(e).__name__, e)})


def main(argv):
    if argv == ["serve"]:
        serve()
        return 0
    try:
        run_command(argv)
    except Answer as a:
        write_answer(a.doc)
        return a.code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
