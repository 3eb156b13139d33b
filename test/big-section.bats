#!/usr/bin/env bats
# A big data migration (issue 19): PostgreSQL gets a transactional section
# over 1 MB in pieces of whole statements, cut where PostgreSQL's own lexer
# and parser say a statement ends, so that libpq's two copies of the query
# hold a piece, not the section. Its peak memory is then at most the file
# plus 16 MB on both dialects. The pieces run in mig's one transaction, as
# the whole would: every row lands; a failing statement late in the section
# names its own line and leaves nothing; a COMMIT in it is caught as before.

load test_helper/common
load test_helper/revs

# big_section FILE MB [TAIL]: writes FILE, a migration (revision a1) whose
# upgrade section is about MB megabytes of statements that are hard to cut:
# INSERTs of long strings full of ';', quotes, newlines and comment
# markers, dollar-quoted bodies, comments holding ';', and SQL-standard
# function bodies (BEGIN ATOMIC ... END) that hold ';' and fill more than
# half of the text, so that most places a piece could be cut at fall inside
# one (BIG_PLAIN=1: the INSERTs of strings alone, which SQLite runs too).
# TAIL (SQL) comes after it, then AFTER more INSERTs (ids -10 down).
# Prints the rows, the sum of their notes' lengths and the functions it
# makes before TAIL.
big_section() {
	mkdir -p "$(dirname "$1")"
	python3 - "$1" "$2" "${3:-}" "${4:-0}" "${BIG_PLAIN:-0}" <<'EOF'
import sys
path, mb, tail, after, plain = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
chunk = "x;'' -- /* $$ \n" * 20
out = ["-- revision: a1", "-- down_revision: none", "", "-- +upgrade",
       "CREATE TABLE big (id integer PRIMARY KEY, note text);"]
size, k, f, total = 0, 0, 0, 0
while size < mb * 1024 * 1024:
    rows = []
    for _ in range(40):
        k += 1
        rows.append("INSERT INTO big VALUES (%d, '%s'); -- row %d; done\n" % (k, chunk, k))
    if plain:
        out.append("".join(rows))
        size += len(out[-1])
        total += 40 * len(chunk.replace("''", "'"))
        continue
    rows.append("/* a comment; with ';' */ INSERT INTO big VALUES (%d, $q$%s$q$);\n" % (k + 1, chunk))
    k += 1
    total += 40 * len(chunk.replace("''", "'")) + len(chunk)
    f += 1
    body = "".join("  SELECT %d + length('%s');\n" % (i, chunk) for i in range(60))
    rows.append("CREATE FUNCTION f%d() RETURNS integer LANGUAGE sql\nBEGIN ATOMIC\n%s  SELECT %d;\nEND;\n" % (f, body, f))
    text = "".join(rows)
    out.append(text)
    size += len(text)
out.append(tail)
out += ["INSERT INTO big VALUES (%d, NULL);" % -(i + 10) for i in range(after)]
out += ["", "-- +downgrade", "DROP TABLE big;", ""]
open(path, "w").write("\n".join(out))
print(k, total, f)
EOF
}

# line_of FILE TEXT: the number of the line that holds TEXT.
line_of() {
	grep -n -F -- "$2" "$1" | head -1 | cut -d: -f1
}

@test "PostgreSQL: a 24 MB section applies with every row and every function, in one transaction" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m counts rows total functions
	counts=$(big_section "$m/versions/a1.sql" 24)
	run mig-upgrade -q -m "$m" -d "$URL"
	assert_success
	read -r rows total functions <<<"$counts"
	assert_equal "$(pg_sql "$URL" "SELECT count(*), sum(length(note)) FROM big")" "$rows|$total"
	assert_equal "$(pg_sql "$URL" "SELECT count(*) FROM pg_proc WHERE proname ~ '^f[0-9]+$'")" "$functions"
	assert_equal "$(pg_sql "$URL" "SELECT f7()")" "7"
	assert_equal "$(version_rows "$URL")" "a1"
}

@test "PostgreSQL: a statement that fails near the end of a big section names its line and leaves nothing" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m line
	# division by zero: an error without a position, found by counting
	# the statements of its piece
	big_section "$m/versions/a1.sql" 6 "$(printf 'INSERT INTO big VALUES (-1, NULL);\n\n  SELECT 1 / 0 AS last_one;\nINSERT INTO big VALUES (-2, NULL);')" >/dev/null
	line=$(line_of "$m/versions/a1.sql" "last_one")
	run mig-upgrade -q -m "$m" -d "$URL"
	assert_equal "$status" 3
	assert_output --partial "a1.sql:$line: division by zero"
	assert_equal "$(tables "$URL")" ""
	assert_equal "$(version_rows "$URL")" ""
}

@test "PostgreSQL: a syntax error at the end of a big section is found after the pieces before it ran, and they are rolled back" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m line
	big_section "$m/versions/a1.sql" 6 "$(printf 'INSERT INTO big VALUES (-1, NULL);\n  SELEC 2;')" >/dev/null
	line=$(line_of "$m/versions/a1.sql" "SELEC 2")
	run mig-upgrade -q -m "$m" -d "$URL"
	assert_equal "$status" 3
	assert_output --partial "a1.sql:$line: syntax error at or near \"SELEC\""
	assert_equal "$(tables "$URL")" ""
	assert_equal "$(version_rows "$URL")" ""
}

@test "PostgreSQL: a COMMIT in the middle of a big section is caught at its line, and the pieces after it are not sent" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m line
	big_section "$m/versions/a1.sql" 3 "COMMIT;" 200000 >/dev/null
	line=$(line_of "$m/versions/a1.sql" "COMMIT;")
	run mig-upgrade -q -m "$m" -d "$URL"
	assert_equal "$status" 3
	assert_output --partial "a1.sql:$line: this statement committed mig's transaction"
	assert_equal "$(version_rows "$URL")" ""
	# what ran before the COMMIT was committed by it, as in a small
	# section; the 200,000 INSERTs after it are 6 MB, pieces not sent
	assert_equal "$(tables "$URL")" "big"
	assert_equal "$(pg_sql "$URL" "SELECT count(*) < 200000 FROM big WHERE id <= -10")" "t"
}

# peak_kb CMD...: the peak resident memory of CMD, in kB (GNU time).
peak_kb() {
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/peak" "$@" >/dev/null 2>&1 || fail "$* failed"
	cat "$BATS_TEST_TMPDIR/peak"
}

@test "a 40 MB data migration peaks at most at the file's size plus 16 MB, on both dialects" {
	[[ -x /usr/bin/time ]] || skip "needs GNU time (package time)"
	local m=$BATS_TEST_TMPDIR/m file_kb pg_kb sqlite_kb
	BIG_PLAIN=1 big_section "$m/versions/a1.sql" 40 >/dev/null
	file_kb=$(($(stat -c %s "$m/versions/a1.sql") / 1024))
	new_db sqlite
	sqlite_kb=$(peak_kb mig-upgrade -q -m "$m" -d "$URL")
	new_db postgresql
	pg_kb=$(peak_kb mig-upgrade -q -m "$m" -d "$URL")
	assert_equal "$(version_rows "$URL")" "a1"
	# sent whole, libpq's two copies alone would add twice the file
	echo "file $file_kb kB, SQLite $sqlite_kb kB, PostgreSQL $pg_kb kB" >&3
	(( sqlite_kb <= file_kb + 16384 )) || fail "SQLite peaked at $sqlite_kb kB for a $file_kb kB file"
	(( pg_kb <= file_kb + 16384 )) || fail "PostgreSQL peaked at $pg_kb kB for a $file_kb kB file"
}
