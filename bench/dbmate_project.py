"""dbmate_project.py DIR DIALECT OUT: the migrations of DIR as a dbmate project.

Writes OUT/NNNNNN_<revision>.sql, one file per mig migration, numbered in an
order that applies (parents first), with the SQL for DIALECT (sqlite or
postgresql) under dbmate's '-- migrate:up' and '-- migrate:down' markers;
'transactional: false' becomes dbmate's 'transaction:false'. dbmate then runs
the same statements as mig, one transaction per migration, and records them in
its own schema_migrations table.
"""
import os
import sys

from floor_sql import read


def main():
    src, dialect, out = sys.argv[1], sys.argv[2], sys.argv[3]
    versions = os.path.join(src, "versions")
    files, parents = {}, {}
    for name in sorted(os.listdir(versions)):
        if not name.endswith(".sql"):
            continue
        head, up, down = read(os.path.join(versions, name), dialect)
        rev = head["revision"]
        downs = head.get("down_revision", "none")
        parents[rev] = [] if downs.lower() in ("", "none") else [d.strip() for d in downs.split(",")]
        tx = "" if head.get("transactional", "true").lower() != "false" else " transaction:false"
        files[rev] = f"-- migrate:up{tx}\n{up}\n\n-- migrate:down{tx}\n{down}\n"
    # Parents first (Kahn), ties by revision id, so that every run numbers alike.
    children, waiting = {}, {}
    for rev, ps in parents.items():
        waiting[rev] = len(ps)
        for p in ps:
            children.setdefault(p, []).append(rev)
    ready = sorted(r for r, n in waiting.items() if n == 0)
    order = []
    while ready:
        rev = ready.pop(0)
        order.append(rev)
        for c in sorted(children.get(rev, [])):
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    if len(order) != len(files):
        sys.exit("dbmate_project.py: the graph has a cycle or a missing parent")
    os.makedirs(out, exist_ok=True)
    for i, rev in enumerate(order, 1):
        with open(os.path.join(out, "%06d_%s.sql" % (i, rev)), "w") as f:
            f.write(files[rev])


if __name__ == "__main__":
    main()
