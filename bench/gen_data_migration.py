"""gen_data_migration.py DIR MB: a data migration of about MB megabytes.

Writes DIR/versions/a1.sql, one mig migration whose upgrade section creates
a table and fills it with INSERTs of 300-byte strings (holding ';', quotes
and comment markers, as real data does), and DIR/floor.sql, the same
statements for psql -1 -f (the streaming floor: psql reads a statement at a
time). Both dialects run it: it is the big-file case of issue 19, whose
target is a peak memory of at most the file's size plus 16 MB.
"""
import os
import sys

directory, mb = sys.argv[1], float(sys.argv[2])
chunk = "x;'' -- /* \n" * 25
create = "CREATE TABLE big (id integer PRIMARY KEY, note text);\n"
rows, size, k = [], 0, 0
while size < mb * 1024 * 1024:
    k += 1
    rows.append("INSERT INTO big VALUES (%d, '%s');\n" % (k, chunk))
    size += len(rows[-1])
os.makedirs(os.path.join(directory, "versions"), exist_ok=True)
with open(os.path.join(directory, "versions", "a1.sql"), "w") as f:
    f.write("-- revision: a1\n-- down_revision: none\n\n-- +upgrade\n")
    f.write(create)
    f.writelines(rows)
    f.write("\n-- +downgrade\nDROP TABLE big;\n")
with open(os.path.join(directory, "floor.sql"), "w") as f:
    f.write(create)
    f.writelines(rows)
print(k)
