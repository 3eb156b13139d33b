"""gen_tables.py N: SQL for N tables to introspect (job 4), on stdout.

Table b0001 .. bN: five columns (id, parent_id, name, amount, created_at), a
primary key, a foreign key (parent_id to the previous table's id; the first
table refers to itself) and one index on name. One transaction.
"""
import sys


def main():
    n = int(sys.argv[1])
    out = ["BEGIN;"]
    for i in range(1, n + 1):
        t = "b%05d" % i
        parent = "b%05d" % (i - 1) if i > 1 else t
        out.append(f"""CREATE TABLE {t} (
  id VARCHAR(36) NOT NULL,
  parent_id VARCHAR(36),
  name VARCHAR(100) NOT NULL,
  amount NUMERIC(20,2),
  created_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (parent_id) REFERENCES {parent} (id) ON DELETE CASCADE
);
CREATE INDEX ix_{t}_name ON {t} (name);""")
    out.append("COMMIT;")
    print("\n".join(out))


if __name__ == "__main__":
    main()
