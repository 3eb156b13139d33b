"""ci_check_agent_id.py: the CI job's second check (job 1), as its own process.

agent_services.agent_id must be VARCHAR(36), the type of agents.id: the bug
that PostgreSQL rejected on deploy (DatatypeMismatch) while SQLite accepted it.
"""
import os
import sys

from sqlalchemy import String, create_engine, inspect

engine = create_engine(os.environ["MIG_ALEMBIC_URL"])
columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("agent_services")}
kind = columns.get("agent_id")
if not isinstance(kind, String) or kind.length != 36:
    sys.exit(f"agent_services.agent_id is {kind}, expected VARCHAR(36)")
print("agent_services.agent_id is VARCHAR(36)")
