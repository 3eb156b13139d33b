"""floor_sql.py DIR DIALECT [--per-migration]: the floor's script, on stdout.

The DDL of DIR/versions/*.sql (the upgrade sections for DIALECT, sqlite or
postgresql, in revision order) as one file for the sqlite3 shell or psql,
together with Alembic's version table and its row, so that the floor does the
same work as the tools it is compared with, and nothing else: no lint, no
lock, no check.

Default: one transaction around everything. --per-migration: one
transaction per migration with its version-row update, as mig-upgrade runs
them. Merges are not handled (one down_revision at most): the floor is only
used for linear histories.
"""
import os
import re
import sys

HEADER = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*?)\s*$")
SECTION = re.compile(r"^--\s*\+(upgrade|downgrade)(?:\s+(\w+))?\s*$")
VERSION_TABLE = ("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                 "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));")


def read(path, dialect):
    """The header of a mig file and its SQL for dialect: (header, up, down)."""
    head, sql, part, in_section = {}, {"upgrade": [], "downgrade": []}, None, False
    with open(path) as f:
        for line in f:
            m = SECTION.match(line)
            if m:
                in_section = True
                part = m.group(1) if m.group(2) in (None, dialect) else None
                continue
            if part:
                sql[part].append(line)
            elif not in_section:
                h = HEADER.match(line)
                if h:
                    head[h.group(1)] = h.group(2)
    return head, "".join(sql["upgrade"]).strip(), "".join(sql["downgrade"]).strip()


def parse(path, dialect):
    head, up, _ = read(path, dialect)
    return head["revision"], head.get("down_revision", "none"), up


def main():
    src, dialect = sys.argv[1], sys.argv[2]
    per_migration = "--per-migration" in sys.argv[3:]
    versions = os.path.join(src, "versions")
    children, ddl, base = {}, {}, None
    for name in os.listdir(versions):
        if name.endswith(".sql"):
            rev, down, text = parse(os.path.join(versions, name), dialect)
            ddl[rev] = text
            if down.lower() in ("", "none"):
                base = rev
            else:
                children[down] = rev
    order, rev = [], base
    while rev is not None:
        order.append(rev)
        rev = children.get(rev)
    out = []
    if per_migration:
        out.append(VERSION_TABLE)
        for i, rev in enumerate(order):
            version = (f"INSERT INTO alembic_version (version_num) VALUES ('{rev}');" if i == 0
                       else f"UPDATE alembic_version SET version_num = '{rev}' "
                            f"WHERE version_num = '{order[i - 1]}';")
            out += ["BEGIN;", ddl[rev], version, "COMMIT;"]
    else:
        out += ["BEGIN;", VERSION_TABLE] + [ddl[r] for r in order]
        out += [f"INSERT INTO alembic_version (version_num) VALUES ('{order[-1]}');", "COMMIT;"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
