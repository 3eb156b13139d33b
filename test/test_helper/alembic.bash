# test/test_helper/alembic.bash: the real Alembic next to mig, for suites that
# compare the two. Load it after test_helper/common:
#
#   load test_helper/common
#   load test_helper/alembic
#
# alembic_project SRC DEST builds in DEST an Alembic project equivalent to the
# mig migrations folder SRC (SRC/versions/*.sql): an alembic.ini, an env.py
# (online mode only; SQLAlchemy create_engine on the URL given by `-x url=URL`
# or $MIG_ALEMBIC_URL; target_metadata None; `-x version_table=NAME` and
# `-x version_schema=NAME` set Alembic's version_table and
# version_table_schema) and one versions/<rev>_<slug>.py
# per .sql file with the same revision, down_revision (a tuple for a merge),
# branch_labels and depends_on. Its upgrade() and downgrade() run the same SQL
# as the .sql sections, statement by statement with op.execute, and a section
# that names a dialect only on that dialect; so both the version rows and the
# schema can be compared with what mig does.
#
# alembic_cmd DEST URL ARGS... runs Debian's Alembic (/usr/bin/python3, not the
# pyenv python first on PATH) on that project against URL, e.g.
#   alembic_cmd "$proj" "$(sqlite_url "$db")" upgrade heads
#   alembic_cmd "$proj" "$url" -x version_table=deploys current
#
# alembic_revs DEST URL current|heads [ARGS...] prints the revisions of
# `alembic current` or `alembic heads`, sorted, on one line.
#
# alembic_walk DEST URL upgrade|downgrade TARGET [upgrade|downgrade TARGET ...]
# runs those Alembic commands one after another in one Python process (each
# `alembic` start costs about a second of imports) and prints, after each, a
# line "ROWS<tab>TABLES": the alembic_version rows and the user tables, each
# sorted and separated by spaces. A failing command stops the walk: its error
# goes to stderr and the status is 1.
# shellcheck shell=bash

ALEMBIC_PYTHON=${ALEMBIC_PYTHON:-/usr/bin/python3}

# require_alembic: skip the current test unless Debian's Alembic can be imported.
# The answer is asked once a run (a Python start with SQLAlchemy's imports
# costs most of a second) and kept in BATS_RUN_TMPDIR.
require_alembic() {
	local answer=${BATS_RUN_TMPDIR:?}/mig-alembic-importable
	if [[ ! -s $answer ]]; then
		local verdict=no
		if _alembic_env "$ALEMBIC_PYTHON" -c 'import alembic, sqlalchemy' 2>/dev/null; then
			verdict=yes
		fi
		# Tests run in parallel: write whole, so that nobody reads half of it.
		echo "$verdict" >"$answer.$BASHPID" && mv -f "$answer.$BASHPID" "$answer"
	fi
	if [[ $(<"$answer") != yes ]]; then
		skip "needs Alembic and SQLAlchemy for $ALEMBIC_PYTHON (apt-get install python3-alembic)"
	fi
}

# alembic_cmd DEST URL ARGS...: run `alembic ARGS...` in project DEST on URL,
# in the session alembic_session_start opened for DEST and URL if there is one.
alembic_cmd() {
	local dest=$1 url=$2
	shift 2
	if [[ -n ${ALEMBIC_SESSION_PID:-} && $_alembic_session_of == "$dest"$'\n'"$url" ]]; then
		_alembic_session_cmd "$@"
		return
	fi
	MIG_ALEMBIC_URL=$url _alembic_env "$ALEMBIC_PYTHON" -m alembic -c "$dest/alembic.ini" "$@"
}

# alembic_session_start DEST URL: one Alembic process for project DEST on URL
# that runs every later alembic_cmd (and alembic_revs) on the same DEST and
# URL, until the test ends: one Python start instead of one per command. Each
# command still builds its own Config, reads the scripts and runs env.py on a
# new connection, as a new `alembic` would.
alembic_session_start() {
	local dest=$1 url=$2
	_alembic_session_of=$dest$'\n'$url
	# 3>&-: bats waits for whatever holds its fd 3 before it ends the test.
	coproc ALEMBIC_SESSION {
		MIG_ALEMBIC_URL=$url _alembic_env "$ALEMBIC_PYTHON" -c "$_alembic_session_py" "$dest/alembic.ini"
	} 3>&-
}

# alembic_revs DEST URL current|heads [ARGS...]: the revision ids `alembic
# current` (or heads) prints, without "(head)" and labels, sorted, on one line.
alembic_revs() {
	local dest=$1 url=$2 cmd=$3 out
	shift 3
	out=$(alembic_cmd "$dest" "$url" "$@" "$cmd") || return
	[[ -n $out ]] || return 0
	awk '{ print $1 }' <<<"$out" | LC_ALL=C sort | paste -sd ' ' -
}

# alembic_walk DEST URL DIR TARGET [DIR TARGET ...]: see the top of this file.
alembic_walk() {
	local dest=$1 url=$2
	shift 2
	MIG_ALEMBIC_URL=$url _alembic_env "$ALEMBIC_PYTHON" - "$dest/alembic.ini" "$url" "$@" \
		<<<"$_alembic_walk_py"
}

# alembic_project SRC DEST: write the Alembic equivalent of migrations folder SRC into DEST.
alembic_project() {
	local src=$1 dest=$2
	mkdir -p "$dest/versions" || return
	_alembic_ini >"$dest/alembic.ini"
	_alembic_env_py >"$dest/env.py"
	_alembic_env "$ALEMBIC_PYTHON" - "$src/versions" "$dest/versions" <<<"$_alembic_gen_py"
}

# db_tables FILE_OR_URL: the user tables of a database (no alembic_version,
# no mig_history, no sqlite_*), sorted, on one line separated by spaces.
db_tables() {
	local all
	if _mig_is_pg "$1"; then
		all=$(pg_tables "$1") || return
	else
		all=$(sqlite_tables "$1") || return
	fi
	grep -v -e '^alembic_version$' -e '^mig_history$' -e '^sqlite_' <<<"$all" | paste -sd ' ' -
}

# --- internals -------------------------------------------------------------

# _alembic_session_cmd ARGS...: one command in the session: stdout, stderr and
# exit status as `alembic ARGS...` would give them. The session sends back the
# command's stdout, a line RS STATUS, its stderr and a line RS (RS = \x1e).
_alembic_session_cmd() {
	local line status
	printf '%s\n' "$#" "$@" >&"${ALEMBIC_SESSION[1]}"
	while IFS= read -r line; do
		[[ $line == $'\x1e'* ]] && break
		printf '%s\n' "$line"
	done <&"${ALEMBIC_SESSION[0]}"
	[[ $line == $'\x1e'* ]] || {
		echo "alembic_cmd: the Alembic session ended" >&2
		return 127
	}
	status=${line#$'\x1e'}
	while IFS= read -r line && [[ $line != $'\x1e' ]]; do
		printf '%s\n' "$line" >&2
	done <&"${ALEMBIC_SESSION[0]}"
	return "$status"
}

# The session: reads a count and that many argument lines, runs Alembic's own
# command line on them, and answers as _alembic_session_cmd reads.
_alembic_session_py=$(
	cat <<'EOF'
import contextlib, io, sys, traceback

from alembic.config import CommandLine


def as_lines(text):
    return text if not text or text.endswith("\n") else text + "\n"


ini = sys.argv[1]
while True:
    count = sys.stdin.readline()
    if not count:
        break
    args = [sys.stdin.readline().rstrip("\n") for _ in range(int(count))]
    out, err, status = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            CommandLine(prog="alembic").main(["-c", ini] + args)
        except SystemExit as e:
            # As Python's own exit: a number is the status, anything else
            # is printed to stderr and gives 1.
            code = e.code
            if code is None or isinstance(code, int):
                status = code or 0
            else:
                print(code, file=sys.stderr)
                status = 1
        except Exception:
            traceback.print_exc()
            status = 1
    sys.stdout.write(as_lines(out.getvalue()) + "\x1e%d\n" % (status % 256))
    sys.stdout.write(as_lines(err.getvalue()) + "\x1e\n")
    sys.stdout.flush()
EOF
)

# _alembic_env CMD...: CMD without the pyenv/virtualenv settings of the caller.
_alembic_env() {
	env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV -u PYENV_VERSION "$@"
}

_alembic_ini() {
	cat <<'EOF'
# Generated by test/test_helper/alembic.bash; no logging section on purpose,
# so that stdout holds only what the command prints.
[alembic]
script_location = %(here)s
EOF
}

_alembic_env_py() {
	cat <<'EOF'
"""Generated by test/test_helper/alembic.bash: online mode only."""
import os

from alembic import context
from sqlalchemy import create_engine, pool

target_metadata = None


def database_url():
    x = context.get_x_argument(as_dictionary=True)
    url = x.get("url") or os.environ.get("MIG_ALEMBIC_URL")
    if not url:
        raise SystemExit("env.py: no database URL (-x url=URL or MIG_ALEMBIC_URL)")
    return url


def run_migrations_online():
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        x = context.get_x_argument(as_dictionary=True)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=x.get("version_table", "alembic_version"),
            version_table_schema=x.get("version_schema"),
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("env.py: offline mode (--sql) is not supported")
run_migrations_online()
EOF
}

# The walk of alembic_walk: argv is INI URL (DIR TARGET)...
_alembic_walk_py=$(
	cat <<'EOF'
import sys

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, pool, text

ini, url, walk = sys.argv[1], sys.argv[2], sys.argv[3:]
config = Config(ini)
engine = create_engine(url, poolclass=pool.NullPool)
for kind, target in zip(walk[0::2], walk[1::2]):
    getattr(command, kind)(config, target)
    with engine.connect() as connection:
        rows = [r for (r,) in connection.execute(text("SELECT version_num FROM alembic_version"))]
        tables = [t for t in inspect(connection).get_table_names()
                  if t != "alembic_version" and not t.startswith("sqlite_")]
    print(" ".join(sorted(rows)) + "\t" + " ".join(sorted(tables)), flush=True)
EOF
)

# Reads SRC/versions/*.sql (argv[1]) and writes DEST/versions/*.py (argv[2]).
# Statements are split with sqlite3.complete_statement, which knows quotes,
# comments and trigger bodies; that is enough for test fixtures.
_alembic_gen_py=$(
	cat <<'EOF'
import os, re, sqlite3, sys

src, dest = sys.argv[1], sys.argv[2]
HEADER = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*?)\s*$")
SECTION = re.compile(r"^--\s*\+(upgrade|downgrade)(?:\s+(\w+))?\s*$")


def names(value):
    if value.lower() in ("", "none"):
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def statements(lines):
    out, buf = [], ""
    for line in lines:
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip() and not all(l.strip().startswith("--") or not l.strip()
                               for l in buf.splitlines()):
        out.append(buf.strip())
    return out


def parse(path):
    head, sections, current = {}, [], None
    with open(path) as f:
        for line in f:
            m = SECTION.match(line)
            if m:
                current = (m.group(1), m.group(2), [])
                sections.append(current)
                continue
            if current is None:
                h = HEADER.match(line)
                if h:
                    head[h.group(1)] = h.group(2)
                continue
            current[2].append(line)
    steps = {"upgrade": [], "downgrade": []}
    for kind, dialect, lines in sections:
        steps[kind] += [(dialect, s) for s in statements(lines)]
    return head, steps


def one_or_tuple(value):
    if value is None:
        return None
    return value[0] if len(value) == 1 else value


for name in sorted(os.listdir(src)):
    if not name.endswith(".sql"):
        continue
    head, steps = parse(os.path.join(src, name))
    rev = head["revision"]
    down = one_or_tuple(names(head.get("down_revision", "none")))
    labels = names(head.get("branch_labels", "none"))
    deps = one_or_tuple(names(head.get("depends_on", "none")))
    revises = ", ".join(down) if isinstance(down, tuple) else (down or "")
    with open(os.path.join(dest, name[:-4] + ".py"), "w") as f:
        f.write(f'''"""{head.get("message", "")}

Revision ID: {rev}
Revises: {revises}
Generated by test/test_helper/alembic.bash from {name}.
"""
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {deps!r}

UPGRADE = {steps["upgrade"]!r}
DOWNGRADE = {steps["downgrade"]!r}


def _run(steps):
    dialect = op.get_context().dialect.name
    for only, sql in steps:
        if only is None or only == dialect:
            op.execute(sql)


def upgrade():
    _run(UPGRADE)


def downgrade():
    _run(DOWNGRADE)
''')
EOF
)
