# test/test_helper/alembic.bash: the real Alembic next to mig, for suites that
# compare the two. Load it after test_helper/common:
#
#   load test_helper/common
#   load test_helper/alembic
#
# alembic_project SRC DEST builds in DEST an Alembic project equivalent to the
# mig migrations folder SRC (SRC/versions/*.sql), with the generator the
# benchmark uses too (bench/alembic_project.py --for-tests): an alembic.ini,
# an env.py (online mode only; SQLAlchemy create_engine on the URL given by `-x url=URL`
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
	_alembic_env "$ALEMBIC_PYTHON" "$REPO/bench/alembic_project.py" --for-tests "$1" "$2"
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
