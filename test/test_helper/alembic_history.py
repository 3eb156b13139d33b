"""test/test_helper/alembic_history.py: `alembic history` on a folder.

Usage: /usr/bin/python3 test/test_helper/alembic_history.py DIR [ARGS...]

Runs Alembic's own command line, `alembic history ARGS...`, on DIR/versions
(DIR is the script_location; no alembic.ini or env.py is needed: history
reads no database). ARGS are history's own: -r RANGE, -v.

Alembic orders revisions that nothing else orders by the order it listed
the folder in (os.listdir, which is the file system's order); mig uses the
file names' order. So that the two can be compared at all, the folder is
listed sorted here. Nothing else of Alembic is changed.
"""
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the fixtures

from alembic import command  # noqa: E402
from alembic.config import CommandLine, Config  # noqa: E402
from alembic.script.base import Script  # noqa: E402

_list = Script._list_py_dir.__func__


def _sorted_list_py_dir(cls, scriptdir, path):
    return sorted(_list(cls, scriptdir, path))


Script._list_py_dir = classmethod(_sorted_list_py_dir)


def main(argv):
    if len(argv) < 2:
        print("usage: alembic_history.py DIR [ARGS...]", file=sys.stderr)
        return 2
    cfg = Config()
    cfg.set_main_option("script_location", argv[1])
    options = CommandLine(prog="alembic").parser.parse_args(["history"] + argv[2:])
    try:
        command.history(cfg, rev_range=options.rev_range, verbose=options.verbose)
    except Exception as e:  # noqa: BLE001 - Alembic's refusals, for the test
        print(f"alembic_history.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
