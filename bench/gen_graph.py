"""gen_graph.py linear N DIR | merges N MERGES DIR: synthetic mig migrations.

Writes DIR/versions/<rev>_<slug>.sql, N revisions, each creating one small
table (an id primary key and a name) and dropping it on downgrade. Revision
ids are 12 lowercase hex digits, as Alembic generates them, derived from the
number so that every run writes the same graph.

linear: one chain, r1 <- r2 <- ... <- rN.
merges: a trunk along which the graph splits MERGES times into two parallel
branches that a merge revision (down_revision "a, b") joins again; the rest
of the N revisions are spread over the branches and the trunk. One head.
"""
import hashlib
import os
import sys


def rev_id(i):
    return hashlib.sha1(b"mig-bench-%d" % i).hexdigest()[:12]


def write(versions, i, down):
    rev = rev_id(i)
    down_text = ", ".join(down) if down else "none"
    with open(os.path.join(versions, "%s_t%05d.sql" % (rev, i)), "w") as f:
        f.write(f"""-- revision: {rev}
-- down_revision: {down_text}
-- message: table t{i:05d}

-- +upgrade
CREATE TABLE t{i:05d} (
  id INTEGER NOT NULL,
  name VARCHAR(50),
  PRIMARY KEY (id)
);

-- +downgrade
DROP TABLE t{i:05d};
""")
    return rev


def linear(n, versions):
    tip = None
    for i in range(1, n + 1):
        tip = write(versions, i, [tip] if tip else [])


def merges(n, nmerges, versions):
    # Per merge: one trunk revision, two branches, one merge revision.
    per = n // nmerges
    if per < 4:
        sys.exit("gen_graph.py: need at least 4 revisions per merge")
    i, tip = 0, None

    def add(down):
        nonlocal i
        i += 1
        return write(versions, i, down)

    for m in range(nmerges):
        count = per + (1 if m < n % nmerges else 0)
        tip = add([tip] if tip else [])
        side = count - 2
        a_len, b_len = (side + 1) // 2, side // 2
        a = tip
        for _ in range(a_len):
            a = add([a])
        b = tip
        for _ in range(b_len):
            b = add([b])
        tip = add([a, b])


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "linear":
        kind, n, dest = args[0], int(args[1]), args[2]
    elif len(args) == 4 and args[0] == "merges":
        kind, n, dest = args[0], int(args[1]), args[3]
    else:
        sys.exit("usage: gen_graph.py linear N DIR | merges N MERGES DIR")
    versions = os.path.join(dest, "versions")
    os.makedirs(versions, exist_ok=True)
    if kind == "linear":
        linear(n, versions)
    else:
        merges(n, int(args[2]), versions)


if __name__ == "__main__":
    main()
