#!/usr/bin/env bats
# Red team of the big-section pieces (issue 19): a PostgreSQL section over
# 1 MB goes in pieces of whole statements.  Each attack puts a construct
# that holds ';' or looks like a statement end many times through a section
# of over 1 MB, so that some copy of it straddles every place a piece could
# be cut, and compares the result with the same construct in a section
# under 1 MB: the same tables and rows, or the same error at the same line.

load test_helper/common
load test_helper/revs
shopt -s extglob

# padded FILE MB CONSTRUCT [TAIL]: writes FILE, revision a1, whose upgrade
# makes table pad and log, then repeats CONSTRUCT (with {k} replaced by a
# counter) between INSERTs until the section is about MB megabytes (0: one
# copy), then TAIL.
padded() {
	mkdir -p "$(dirname "$1")"
	python3 - "$1" "$2" "$3" "${4:-}" <<'PY'
import sys
path, mb, construct, tail = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
out = ["-- revision: a1", "-- down_revision: none", "", "-- +upgrade",
       "CREATE TABLE pad (id integer PRIMARY KEY, note text);",
       "CREATE TABLE log (k integer, v text);"]
size, k = 0, 0
while True:
    k += 1
    text = construct.replace("{k}", str(k)) + "\n" + "INSERT INTO pad VALUES (%d, 'pad %d');\n" % (k, k)
    out.append(text)
    size += len(text.encode())
    if size >= mb * 1024 * 1024:
        break
if tail:
    out.append(tail)
out += ["", "-- +downgrade", "SELECT 1;", ""]
open(path, "w", newline="").write("\n".join(out))
PY
}

# state URL: every row of log and the count and sum of pad, as one text.
state() {
	pg_sql "$1" "SELECT coalesce(md5(string_agg(k || ':' || coalesce(v, '~'), ',' ORDER BY k, v)), 'none') FROM log;
		SELECT count(*), sum(id) FROM pad;
		SELECT string_agg(rulename, ',' ORDER BY rulename) FROM pg_rules WHERE schemaname = 'public';
		SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
}

# same_as_small STATUS CONSTRUCT [TAIL]: applies CONSTRUCT in a 1.5 MB
# section and in a one-copy section; both must exit STATUS.  On success the
# log rows are those of the small section times the copies; on failure
# nothing is left, and the messages are the same but for the line number,
# which is the line of the first statement holding "FAILS_HERE" when there
# is one.
same_as_small() {
	local want=$1 big=$BATS_TEST_TMPDIR/big small=$BATS_TEST_TMPDIR/small ub us
	padded "$big/versions/a1.sql" 1.5 "$2" "${3:-}"
	padded "$small/versions/a1.sql" 0 "$2" "${3:-}"
	(($(stat -c %s "$big/versions/a1.sql") > 1048576)) || fail "big section is not over 1 MB"
	ub=$(pg_new_db)
	us=$(pg_new_db)
	run --separate-stderr mig-upgrade -q -m "$big" -d "$ub"
	BIG_STATUS=$status BIG_ERR=$stderr
	run --separate-stderr mig-upgrade -q -m "$small" -d "$us"
	SMALL_STATUS=$status SMALL_ERR=$stderr
	assert_equal "$SMALL_STATUS" "$want"
	assert_equal "$BIG_STATUS" "$want"
	if ((want == 0)); then
		assert_equal "$(version_rows "$ub")" "a1"
		assert_equal "$(pg_sql "$ub" "SELECT k || ':' || coalesce(v, '~') FROM log WHERE k = 1 ORDER BY v")" \
			"$(pg_sql "$us" "SELECT k || ':' || coalesce(v, '~') FROM log WHERE k = 1 ORDER BY v")"
		local copies
		copies=$(pg_sql "$ub" "SELECT count(*) FROM pad")
		((copies > 100)) || fail "only $copies copies"
		assert_equal "$(pg_sql "$ub" "SELECT count(*) FROM log")" \
			"$((copies * $(pg_sql "$us" "SELECT count(*) FROM log")))"
		assert_equal "$(pg_sql "$ub" "SELECT count(*) FROM pg_rules WHERE schemaname = 'public'")" \
			"$((copies * $(pg_sql "$us" "SELECT count(*) FROM pg_rules WHERE schemaname = 'public'")))"
	else
		assert_equal "$(version_rows "$ub")" ""
		assert_equal "$(tables "$ub")" ""
		local b=${BIG_ERR//a1.sql:+([0-9]):/a1.sql:N:} s=${SMALL_ERR//a1.sql:+([0-9]):/a1.sql:N:}
		assert_equal "${b#*a1.sql:N:}" "${s#*a1.sql:N:}"
		local line
		if line=$(grep -n -m1 'FAILS_HERE' "$big/versions/a1.sql" | cut -d: -f1) && [[ -n $line ]]; then
			[[ $BIG_ERR == *"a1.sql:$line:"* ]] || fail "expected line $line: $BIG_ERR"
			line=$(grep -n -m1 'FAILS_HERE' "$small/versions/a1.sql" | cut -d: -f1)
			[[ $SMALL_ERR == *"a1.sql:$line:"* ]] || fail "expected line $line: $SMALL_ERR"
		fi
	fi
}

@test "pieces: E'' strings with backslashes, escaped quotes and ';' are never cut inside" {
	require_pg
	same_as_small 0 'INSERT INTO log VALUES ({k}, E'"'"'a\'"'"'; b; \\'"'"''"'"';'"'"' || E'"'"'\x3b;\n'"'"');'
}

@test "pieces: nested /* /* ; */ ; */ comments are never cut inside" {
	require_pg
	same_as_small 0 "/* outer; /* inner; INSERT INTO log VALUES (-1, 'no'); */ still comment; */ INSERT INTO log VALUES ({k}, 'c');"
}

@test "pieces: a CREATE RULE with several actions in parentheses is not cut between its actions" {
	require_pg
	same_as_small 0 "CREATE TABLE r{k} (x int);
CREATE RULE rr{k} AS ON INSERT TO r{k} DO ALSO (INSERT INTO log VALUES ({k}, 'one'); INSERT INTO log VALUES ({k}, 'two'); INSERT INTO log VALUES ({k}, 'three'));
INSERT INTO r{k} VALUES (1);"
}

@test "pieces: dollar-quoted DO bodies with ';' and nested tags are never cut inside" {
	require_pg
	same_as_small 0 'DO $outer$ BEGIN INSERT INTO log VALUES ({k}, $in$x; y$in$); PERFORM 1; END $outer$;'
}

@test "pieces: CRLF line ends give the same result, and the same error at the exact line" {
	require_pg
	same_as_small 0 $'INSERT INTO log VALUES ({k},\r\n \'crlf;\r\n\');\r'
	same_as_small 3 $'INSERT INTO log VALUES ({k},\r\n \'crlf;\r\n\');\r' $'SELECT 1;\r\nSELECT FAILS_HERE FROM pad;\r'
	[[ $BIG_ERR == *'column "fails_here" does not exist'* ]] || fail "$BIG_ERR"
}

@test "pieces: multi-byte UTF-8 everywhere, then a failing statement: the exact line, as in a small section" {
	require_pg
	same_as_small 3 "INSERT INTO log VALUES ({k}, 'ĳ€😀;ü''—;');" "SELECT 1;
SELECT 'ü€😀', FAILS_HERE FROM pad;"
	[[ $BIG_ERR == *'column "fails_here" does not exist'* ]] || fail "$BIG_ERR"
}

@test "pieces: a COPY ... FROM stdin fails in a big section as in a small one, and leaves nothing" {
	require_pg
	same_as_small 3 "INSERT INTO log VALUES ({k}, 'x');" "COPY log FROM stdin;
1	a
\\."
}

@test "pieces: a psql meta-command fails in a big section as in a small one, and leaves nothing" {
	require_pg
	same_as_small 3 "INSERT INTO log VALUES ({k}, 'x');" "\\set ON_ERROR_STOP 1
SELECT 1;"
}

@test "pieces: one 2 MB statement, and a 2 MB statement between small ones, apply whole" {
	require_pg
	local m=$BATS_TEST_TMPDIR/m u
	mkdir -p "$m/versions"
	python3 - "$m/versions/a1.sql" <<'PY'
import sys
s = "ab;c'' -- /* $$ \n" * (2 * 1024 * 1024 // 18 + 1)
open(sys.argv[1], "w").write("-- revision: a1\n-- down_revision: none\n\n-- +upgrade\n"
    "CREATE TABLE log (k integer, v text);\n"
    "INSERT INTO log VALUES (1, '" + s + "');\n"
    "INSERT INTO log VALUES (2, 'small');\n"
    "INSERT INTO log VALUES (3, '" + s + "');\n"
    "\n-- +downgrade\nSELECT 1;\n")
PY
	u=$(pg_new_db)
	run --separate-stderr mig-upgrade -q -m "$m" -d "$u"
	assert_success
	assert_equal "$(pg_sql "$u" "SELECT k, length(v) FROM log ORDER BY k" | paste -sd' ' -)" \
		"$(python3 -c "n=len(\"ab;c' -- /* \$\$ \n\" * (2 * 1024 * 1024 // 18 + 1)); print('1|%d 2|5 3|%d' % (n, n))")"
}

@test "pieces: a section of exactly 1 MB and one of 1 MB plus one byte both apply, and fail at the same line" {
	require_pg
	local n m u sz
	for extra in 0 1; do
		m=$BATS_TEST_TMPDIR/m$extra
		mkdir -p "$m/versions"
		python3 - "$m/versions/a1.sql" "$extra" <<'PY'
import sys
path, extra = sys.argv[1], int(sys.argv[2])
head = "-- revision: a1\n-- down_revision: none\n\n-- +upgrade\n"
tail = "\n-- +downgrade\nSELECT 1;\n"
body = "CREATE TABLE log (k integer, v text);\n"
k = 0
while len(body) < 1024 * 1024 - 200:
    k += 1
    body += "INSERT INTO log VALUES (%d, 'x');\n" % k
body += "SELECT no_such_column FROM log;\n"
need = 1024 * 1024 + extra - len(body)
body += "--" + "p" * (need - 3) + "\n"
assert len(body) == 1024 * 1024 + extra
open(path, "w").write(head + body + tail)
PY
		u=$(pg_new_db)
		run --separate-stderr mig-upgrade -q -m "$m" -d "$u"
		assert_failure 3
		n=$(grep -n no_such_column "$m/versions/a1.sql" | cut -d: -f1)
		[[ $stderr == *"a1.sql:$n:"*'no_such_column'* ]] || fail "extra $extra: $stderr"
		assert_equal "$(tables "$u")" ""
	done
}

@test "pieces: a SAVEPOINT in the first piece rolled back to in the last is not taken for mig's transaction ending; the rows after it are gone" {
	require_pg
	local m=$BATS_TEST_TMPDIR/m u
	mkdir -p "$m/versions"
	python3 - "$m/versions/a1.sql" <<'PY'
import sys
rows = "".join("INSERT INTO log VALUES (%d, 'row');\n" % k for k in range(40000))
open(sys.argv[1], "w").write("-- revision: a1\n-- down_revision: none\n\n-- +upgrade\n"
    "CREATE TABLE log (k integer, v text);\nINSERT INTO log VALUES (-1, 'kept');\n"
    "SAVEPOINT before_rows;\n" + rows + "ROLLBACK TO SAVEPOINT before_rows;\nRELEASE before_rows;\n"
    "INSERT INTO log VALUES (-2, 'kept too');\n\n-- +downgrade\nSELECT 1;\n")
PY
	(($(stat -c %s "$m/versions/a1.sql") > 1048576)) || fail "not over 1 MB"
	u=$(pg_new_db)
	run --separate-stderr mig-upgrade -q -m "$m" -d "$u"
	assert_success
	assert_equal "$(pg_sql "$u" "SELECT string_agg(v, ',' ORDER BY k) FROM log")" "kept too,kept"
	assert_equal "$(version_rows "$u")" "a1"
}

@test "pieces: COMMIT; BEGIN in the middle of a big section is caught at the COMMIT's line, though a transaction is open again" {
	require_pg
	local m=$BATS_TEST_TMPDIR/m u line
	mkdir -p "$m/versions"
	python3 - "$m/versions/a1.sql" <<'PY'
import sys
rows = "".join("INSERT INTO log VALUES (%d, 'row');\n" % k for k in range(20000))
open(sys.argv[1], "w").write("-- revision: a1\n-- down_revision: none\n\n-- +upgrade\n"
    "CREATE TABLE log (k integer, v text);\n" + rows + "COMMIT; BEGIN;\n" + rows +
    "\n-- +downgrade\nSELECT 1;\n")
PY
	(($(stat -c %s "$m/versions/a1.sql") > 1048576)) || fail "not over 1 MB"
	u=$(pg_new_db)
	run --separate-stderr mig-upgrade -q -m "$m" -d "$u"
	assert_failure 3
	line=$(grep -n '^COMMIT; BEGIN;' "$m/versions/a1.sql" | cut -d: -f1)
	[[ $stderr == *"a1.sql:$line: this statement committed mig's transaction"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$u")" ""
}
