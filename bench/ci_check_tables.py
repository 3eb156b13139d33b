"""ci_check_tables.py N: the CI job's first check (job 1), as its own process.

The migrations job of the operations document: after `alembic upgrade head`
on a clean SQLite database ($MIG_ALEMBIC_URL), all N tables must exist.
"""
import os
import sys

from sqlalchemy import create_engine, inspect

expected = int(sys.argv[1])
engine = create_engine(os.environ["MIG_ALEMBIC_URL"])
tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
if len(tables) != expected:
    sys.exit(f"expected {expected} tables, found {len(tables)}")
if "agent_services" not in tables:
    sys.exit("table agent_services is missing")
print(f"{len(tables)} tables")
