"""inspect_all.py: the peer of job 4, SQLAlchemy's inspector over every table.

Reads the URL from $MIG_ALEMBIC_URL and, for every table of the default
schema, its columns, primary key, foreign keys, unique constraints and
indexes: what `mig-check-schema --dump` reports. SQLAlchemy 1.4's inspector
has no bulk reflection, so this is one set of catalog queries per table.
Prints the number of tables.
"""
import os

from sqlalchemy import create_engine, inspect, pool

engine = create_engine(os.environ["MIG_ALEMBIC_URL"], poolclass=pool.NullPool)
with engine.connect() as connection:
    insp = inspect(connection)
    tables = insp.get_table_names()
    for t in tables:
        insp.get_columns(t)
        insp.get_pk_constraint(t)
        insp.get_foreign_keys(t)
        insp.get_unique_constraints(t)
        insp.get_indexes(t)
print(len(tables))
