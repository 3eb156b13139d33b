#!/usr/bin/env bats
# The bad-input catalog (test/bad-input.md): each input the programs must
# refuse, with its exact exit code and the message the user sees, and a
# check that the database is exactly as it was.  The numbers in the test
# names are the catalog's.  Also the injection tests: every input that
# reaches SQL (revision ids, --version-table, --version-schema, --schema,
# table names in specs) tried with SQL in it.

load test_helper/common
use_sanitizer_build
load test_helper/faults

setup_file() {
	export SEED_M=$BATS_FILE_TMPDIR/seed_m
	one_migration "$SEED_M"
	seeded_sqlite "$BATS_FILE_TMPDIR/seeded.db"	# at a1b2c3d4e5f6, with users to lose
}

setup() {
	db=$BATS_TEST_TMPDIR/app.db
	url=$(sqlite_url "$db")
	cp "$BATS_FILE_TMPDIR/seeded.db" "$db"
	m=$SEED_M
}

teardown() {
	if [[ -n ${NOBODY_DIR:-} ]]; then rm -rf "$NOBODY_DIR"; fi
}

# refused_upgrade FIXTURE CODE: mig-upgrade with test/fixtures/FIXTURE is
# refused with CODE and changes nothing; $stderr is left for the caller.
refused_upgrade() {
	rejected "$2" "$db" mig-upgrade -d "$url" -m "$(fixture "$1")"
}

# json_ok: $output is one JSON document in valid UTF-8 (RFC 8259).
json_ok() {
	printf '%s' "$output" | python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' ||
		fail "stdout is not valid UTF-8 JSON: $(printf '%s' "$output" | od -c | head -5)"
}

# ---- migration files ---------------------------------------------------------

@test "1: a header without a revision line is refused at file:1 with exit 2" {
	refused_upgrade bad_no_revision 2
	stderr_has "bad_no_revision/versions/b2_gadgets.sql:1: no '-- revision:' line in the header"
}

@test "2: a header key given twice is refused at its second line with exit 2" {
	refused_upgrade bad_duplicate_key 2
	stderr_has "b2_gadgets.sql:3: header key 'down_revision' given twice"
}

@test "3: an unknown header key is refused with the keys there are" {
	refused_upgrade bad_unknown_key 2
	stderr_has "b2_gadgets.sql:3: unknown header key 'author'" "the keys are revision, down_revision"
}

@test "4: transactional: sometimes is refused: it must be true or false" {
	refused_upgrade bad_transactional 2
	stderr_has "b2_gadgets.sql:3: transactional: expected true or false"
}

@test "5: SQL before the first section marker is refused, not run" {
	refused_upgrade bad_sql_before_marker 2
	stderr_has "b2_gadgets.sql:4: SQL before the first '-- +upgrade' marker"
}

@test "6: a misspelt section marker is refused at its line" {
	refused_upgrade bad_unknown_marker 2
	stderr_has "b2_gadgets.sql:7: unknown section marker; use '-- +upgrade' or '-- +downgrade'"
}

@test "7: an unknown dialect in a section marker is refused with the dialects there are" {
	refused_upgrade bad_unknown_dialect 2
	stderr_has "b2_gadgets.sql:7: unknown dialect in section marker" "the dialects are sqlite and postgresql"
}

@test "8: a migration without any section (its body lost) is refused, not recorded as applied" {
	refused_upgrade bad_no_sections 2
	stderr_has "b2_gadgets.sql"
	[[ $stderr == *"-- +upgrade"* ]] || fail "the message does not say the upgrade section is missing: $stderr"
}

@test "9: binary data with NUL bytes in a migration is refused at its line" {
	refused_upgrade bad_binary 2
	stderr_has "b2_gadgets.sql:6: binary data (a NUL byte) in a migration file"
}

@test "10: binary garbage without NUL bytes (not UTF-8) is refused as SQL before the first marker" {
	refused_upgrade bad_garbage 2
	stderr_has "bad_garbage/versions/b2_gadgets.sql:1: SQL before the first '-- +upgrade' marker"
}

@test "11: a 50 MB migration file of one garbage line is refused quickly, at line 1" {
	mkdir -p "$BATS_TEST_TMPDIR/big/versions"
	cp "$m/versions/"*.sql "$BATS_TEST_TMPDIR/big/versions/"
	head -c 50000000 /dev/zero | tr '\0' 'x' >"$BATS_TEST_TMPDIR/big/versions/b2_big.sql"
	rejected 2 "$db" mig-upgrade -d "$url" -m "$BATS_TEST_TMPDIR/big"
	stderr_has "b2_big.sql:1: SQL before the first '-- +upgrade' marker"
	((${#stderr} < 2000)) || fail "the message quotes the file: ${#stderr} bytes on stderr"
}

@test "12: a revision id of SQL in a header is refused before anything runs" {
	refused_upgrade bad_revision_sql 2
	stderr_has "b2_gadgets.sql:1: revision: an id of letters, digits and _ is needed"
}

@test "13: a down_revision of SQL in a header is refused before anything runs" {
	refused_upgrade bad_down_revision_sql 2
	stderr_has "b2_gadgets.sql:2: down_revision: 'a1b2c3d4e5f6'); DROP TABLE users;--' is not a revision id"
}

@test "14: a revision id of 34 characters is refused: version_num holds 32" {
	refused_upgrade bad_long_id 2
	stderr_has "b2_gadgets.sql:1: revision 'b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8' is 34 characters long; at most 32 fit"
}

@test "15: one revision id declared in two files is refused, naming both" {
	refused_upgrade bad_duplicate_id 2
	stderr_has "revision 'a1b2c3d4e5f6' is also declared in" "a1b2c3d4e5f6_again.sql" "a1b2c3d4e5f6_widgets.sql"
}

@test "16: a pending Alembic Python script is refused before anything runs" {
	refused_upgrade bad_python 2
	stderr_has "b2_gadgets.py: an Alembic Python script cannot be run by mig"
}

# ---- the versions folder -------------------------------------------------------

@test "17: an empty versions folder is refused with exit 2" {
	refused_upgrade bad_empty 2
	stderr_has "bad_empty/versions holds no migrations"
}

@test "18: a missing versions folder is refused, with what -m means" {
	refused_upgrade bad_no_versions 2
	stderr_has "bad_no_versions/versions: No such file or directory" "-m names the folder that holds versions/"
}

@test "19: a versions folder that is a symlink loop is refused with exit 2" {
	mkdir -p "$BATS_TEST_TMPDIR/loop"
	ln -s versions "$BATS_TEST_TMPDIR/loop/versions"
	rejected 2 "$db" mig-upgrade -d "$url" -m "$BATS_TEST_TMPDIR/loop"
	stderr_has "loop/versions: Too many levels of symbolic links"
}

# with_entry NAME: a copy of the seed migrations with one more entry made by
# the caller in $dir/versions/NAME (a broken link, a FIFO, ...).
with_entry() {
	dir=$BATS_TEST_TMPDIR/entry
	mkdir -p "$dir/versions"
	cp "$m/versions/"*.sql "$dir/versions/"
	entry=$dir/versions/$1
}

@test "20: a .sql entry that is a symlink loop is an error, not silently skipped" {
	with_entry b2_gadgets.sql
	ln -s b2_other.sql "$entry"
	ln -s b2_gadgets.sql "$dir/versions/b2_other.sql"
	rejected 2 "$db" timeout 20 mig-upgrade -d "$url" -m "$dir"
	stderr_has "b2_gadgets.sql"
}

@test "21: a .sql entry that is a dangling symlink is an error, not silently skipped" {
	with_entry b2_gadgets.sql
	ln -s /nonexistent/b2_gadgets.sql "$entry"
	rejected 2 "$db" timeout 20 mig-upgrade -d "$url" -m "$dir"
	stderr_has "b2_gadgets.sql"
}

@test "22: a .sql entry that is a FIFO is an error, and mig does not hang on it" {
	with_entry b2_gadgets.sql
	mkfifo "$entry"
	rejected 2 "$db" timeout 20 mig-upgrade -d "$url" -m "$dir"
	stderr_has "b2_gadgets.sql"
}

@test "23: an unreadable migration file (chmod 000, run as nobody) is refused with exit 2" {
	command -v runuser >/dev/null || skip "runuser is not installed"
	NOBODY_DIR=$(mktemp -d /tmp/mig-bad.XXXXXX)
	chmod 755 "$NOBODY_DIR"
	one_migration "$NOBODY_DIR/m"
	printf -- '-- revision: b2\n-- down_revision: a1b2c3d4e5f6\n\n-- +upgrade\nDROP TABLE users;\n' \
		>"$NOBODY_DIR/m/versions/b2_secret.sql"
	chmod 000 "$NOBODY_DIR/m/versions/b2_secret.sql"
	cp "$db" "$NOBODY_DIR/app.db"
	chmod 666 "$NOBODY_DIR/app.db"
	chmod 777 "$NOBODY_DIR"
	db=$NOBODY_DIR/app.db
	rejected 2 "$db" runuser -u nobody -- "$(type -P mig-upgrade)" -d "$(sqlite_url "$db")" -m "$NOBODY_DIR/m"
	stderr_has "b2_secret.sql: Permission denied"
}

@test "24: non-UTF-8 file names still give valid UTF-8 JSON" {
	dir=$BATS_TEST_TMPDIR/latin
	mkdir -p "$dir/versions"
	cp "$m/versions/"*.sql "$dir/versions/"
	printf -- '-- revision: b2\n-- down_revision: a1b2c3d4e5f6\n\n-- +upgrade\nCREATE TABLE gadgets (id INTEGER);\n' \
		>"$dir/versions/"$'caf\xe9_b2.sql'
	run --separate-stderr mig-verify -m "$dir" --format json
	assert_success
	json_ok
}

@test "25: a non-UTF-8 message in a header still gives valid UTF-8 JSON" {
	dir=$BATS_TEST_TMPDIR/latin
	mkdir -p "$dir/versions"
	cp "$m/versions/"*.sql "$dir/versions/"
	printf -- '-- revision: b2\n-- down_revision: a1b2c3d4e5f6\n-- message: caf\xe9 cr\xe8me\n\n-- +upgrade\nCREATE TABLE gadgets (id INTEGER);\n\n-- +downgrade\nDROP TABLE gadgets;\n' \
		>"$dir/versions/b2_cafe.sql"
	run --separate-stderr mig-upgrade -d "$url" -m "$dir" --format json
	assert_success
	json_ok
}

# ---- flags -------------------------------------------------------------------

@test "26: --spec with --no-verify contradict each other: exit 2" {
	rejected 2 "$db" mig-stamp a1b2c3d4e5f6 --spec "$(fixture bad_specs)/inject.yaml" --no-verify -d "$url" -m "$m"
	stderr_has "--spec and --no-verify contradict each other"
}

@test "27: mig-verify --keep with -d: exit 2" {
	empty=$BATS_TEST_TMPDIR/empty.db
	: >"$empty"
	rejected 2 "$empty" mig-verify --keep "$BATS_TEST_TMPDIR/kept.db" -d "$(sqlite_url "$empty")" -m "$m"
	stderr_has "--keep builds a SQLite file; it does not go with -d"
	[[ ! -e $BATS_TEST_TMPDIR/kept.db ]] || fail "--keep made a file anyway"
}

@test "28: mig-stamp without a revision: exit 2, the revision is missing" {
	rejected 2 "$db" mig-stamp -d "$url" -m "$m"
	stderr_has "the revision to stamp is missing"
}

@test "29: a stray argument to mig-upgrade: exit 2, the argument named" {
	rejected 2 "$db" mig-upgrade head -d "$url" -m "$m"
	stderr_has "unexpected argument 'head'"
}

@test "30: an unknown long option: exit 2 and the usage" {
	rejected 2 "$db" mig-upgrade --dry-run -d "$url" -m "$m"
	stderr_has "mig-upgrade: unknown option '--dry-run'" "usage: mig-upgrade" \
		"Try 'mig-upgrade --help' for more."
}

@test "31: an unknown short option: exit 2 and the usage" {
	rejected 2 "$db" mig-status -x -d "$url" -m "$m"
	stderr_has "mig-status: unknown option '-x'" "usage: mig-status" \
		"Try 'mig-status --help' for more."
}

@test "32: --wait abc is not a number of seconds: exit 2" {
	rejected 2 "$db" mig-upgrade --wait abc -d "$url" -m "$m"
	stderr_has "--wait: 'abc' is not a number of seconds (0 to 86400)"
}

@test "33: --lock-timeout -1 is refused: exit 2" {
	rejected 2 "$db" mig-upgrade --lock-timeout -1 -d "$url" -m "$m"
	stderr_has "--lock-timeout: '-1' is not a number of seconds (0 to 86400)"
}

@test "34: --wait nan, 1e400 and 5s are refused: exit 2" {
	for v in nan 1e400 5s ''; do
		rejected 2 "$db" mig-status --wait "$v" -d "$url" -m "$m"
		stderr_has "--wait: '$v' is not a number of seconds"
	done
}

@test "35: --expect-tables x and -3 are refused: exit 2" {
	for v in x -3 99999999999999999999; do
		run --separate-stderr mig-verify --expect-tables "$v" -m "$m"
		assert_failure 2
		assert_output ""
		stderr_has "--expect-tables: '$v' is not a whole number from 0 to 1000000"
	done
}

@test "36: mig-downgrade --to -0 and a huge -N are refused: exit 2" {
	rejected 2 "$db" mig-downgrade --to -0 -d "$url" -m "$m"
	stderr_has "'-0' moves by no revision"
	rejected 2 "$db" mig-downgrade --to -99999999999999999999 -d "$url" -m "$m"
	stderr_has "'-99999999999999999999': too many steps" "at most 1000000"
}

@test "37: --format xml and --lock-mode none are refused: exit 2" {
	rejected 2 "$db" mig-upgrade --format xml -d "$url" -m "$m"
	stderr_has "--format: 'xml' is not text or json"
	rejected 2 "$db" mig-upgrade --lock-mode none -d "$url" -m "$m"
	stderr_has "--lock-mode: 'none' is not session or transaction"
}

@test "38: two different -d URLs are refused rather than one silently ignored" {
	other=$BATS_TEST_TMPDIR/other.db
	seeded_sqlite "$other"
	before_other=$(full_fingerprint "$other")
	mkdir -p "$BATS_TEST_TMPDIR/next/versions"
	cp "$m/versions/"*.sql "$BATS_TEST_TMPDIR/next/versions/"
	printf -- '-- revision: b2\n-- down_revision: a1b2c3d4e5f6\n\n-- +upgrade\nCREATE TABLE gadgets (id INTEGER);\n' \
		>"$BATS_TEST_TMPDIR/next/versions/b2_gadgets.sql"
	rejected 2 "$db" mig-upgrade -d "$url" -d "$(sqlite_url "$other")" -m "$BATS_TEST_TMPDIR/next"
	stderr_has "-d"
	assert_equal "$(full_fingerprint "$other")" "$before_other"
}

@test "39: --sql with --format json gives a JSON document, or is refused" {
	fresh=$BATS_TEST_TMPDIR/fresh.db
	: >"$fresh"
	run --separate-stderr mig-upgrade --sql --format json -d "$(sqlite_url "$fresh")" -m "$REPO/migrations"
	if ((status == 2)); then
		# the refusal is itself the one document (the JSON contract)
		[[ $(jq -r '.error.code' <<<"$output") == 2 ]]
		stderr_has "--sql" "json"
	else
		json_ok
	fi
}

@test "40: an empty revision for mig-stamp is refused, not taken as a prefix of every id" {
	legacy=$BATS_TEST_TMPDIR/legacy.db
	make_legacy_db "$legacy"
	rejected 2 "$legacy" mig-stamp "" -d "$(sqlite_url "$legacy")"
	assert_equal "$(version_rows "$legacy")" ""
}

@test "41: an empty --to is refused, not taken as a prefix of every id" {
	fresh=$BATS_TEST_TMPDIR/fresh.db
	: >"$fresh"
	rejected 2 "$fresh" mig-upgrade --to "" -d "$(sqlite_url "$fresh")"
}

@test "42: an empty -m names no folder: the message says -m, not /versions" {
	rejected 2 "$db" mig-upgrade -m "" -d "$url"
	[[ $stderr != *"'/versions"* && $stderr != *" /versions:"* ]] ||
		fail "the message names the root's /versions: $stderr"
	stderr_has "-m"
}

@test "43: --version-table empty, of 64 characters or with a newline is refused: exit 2" {
	rejected 2 "$db" mig-upgrade --version-table "" -d "$url" -m "$m"
	stderr_has "--version-table: a name of 1 to 63 characters is needed"
	rejected 2 "$db" mig-upgrade --version-table "$(printf 'v%.0s' {1..64})" -d "$url" -m "$m"
	stderr_has "--version-table: a name of 1 to 63 characters is needed"
	rejected 2 "$db" mig-upgrade --version-table $'alembic\nversion' -d "$url" -m "$m"
	stderr_has "--version-table: control characters are not allowed"
}

@test "44: --version-schema on SQLite is refused: SQLite has no schemas" {
	rejected 2 "$db" mig-upgrade --version-schema app -d "$url" -m "$m"
	stderr_has "--version-schema is for PostgreSQL; SQLite has no schemas"
}

@test "45: no database at all: exit 2, how to give one" {
	rejected 2 "$db" env -u DATABASE_URL mig-upgrade -m "$m"
	stderr_has "no database given" "DATABASE_URL"
}

# ---- database URLs -------------------------------------------------------------

@test "46: a path without a scheme is not a database URL: exit 2" {
	rejected 2 "$db" mig-upgrade -d "$db" -m "$m"
	stderr_has "the database URL has no scheme://" "sqlite:///path.db"
}

@test "47: a mysql:// URL is refused, its password not printed" {
	rejected 2 "$db" mig-upgrade -d "mysql://app:My-Secret-47@db.example/app" -m "$m"
	stderr_has "unsupported database URL scheme 'mysql'"
	stderr_lacks "My-Secret-47"
}

@test "48: a SQLite URL with a host is refused: exit 2" {
	rejected 2 "$db" mig-upgrade -d "sqlite://localhost/$db" -m "$m"
	stderr_has "a SQLite URL has no host, user or password part" "sqlite:////absolute/path.db"
}

@test "49: SQLite URL query parameters are refused: exit 2" {
	rejected 2 "$db" mig-upgrade -d "$url?mode=ro" -m "$m"
	stderr_has "query parameters are not supported in SQLite URLs"
}

@test "50: sqlite:/// without a file is refused: exit 2" {
	rejected 2 "$db" mig-upgrade -d "sqlite:///" -m "$m"
	stderr_has "'sqlite:///': no database file named"
}

@test "51: a bad percent-encoding in a PostgreSQL password is refused, the password not printed" {
	rejected 2 "$db" mig-upgrade -d "postgresql://app:Bad%zzSecret-51@127.0.0.1:1/app" -m "$m"
	stderr_has "malformed PostgreSQL URL: invalid percent-encoded token"
	stderr_lacks "Secret-51"
}

@test "52: a malformed host in a URL with a short password: exit 2, the password not printed" {
	rejected 2 "$db" mig-upgrade -d "postgresql://app:pw7@[::1/app" -m "$m"
	stderr_has "IPv6 host address"
	stderr_lacks "pw7"
}

@test "53: a password with @ and / not percent-encoded: exit 2, no piece of it printed" {
	rejected 2 "$db" mig-upgrade -d "postgresql://app:Sec@ret%w:rd/53@127.0.0.1:1/app" -m "$m"
	stderr_has "percent-encode"
	stderr_lacks "ret%w" "rd/53" "Sec@ret"
}

@test "54: an unknown URL query parameter is refused: exit 2" {
	rejected 2 "$db" mig-upgrade -d "postgresql://app:Secret-54@127.0.0.1:1/app?colour=blue" -m "$m"
	stderr_has "invalid URI query parameter: \"colour\""
	stderr_lacks "Secret-54"
}

@test "55: an invalid sslmode is bad input (exit 2), not a database error" {
	rejected 2 "$db" mig-upgrade -d "postgresql://app:Secret-55@127.0.0.1:1/app?sslmode=bogus" -m "$m"
	stderr_has "invalid sslmode value: \"bogus\""
	stderr_lacks "Secret-55"
}

@test "56: a port out of range is bad input (exit 2), not a database error" {
	rejected 2 "$db" mig-upgrade -d "postgresql://app:Secret-56@127.0.0.1:99999/app" -m "$m"
	stderr_has "invalid port number: \"99999\""
	stderr_lacks "Secret-56"
}

# ---- database files --------------------------------------------------------------

@test "57: a file that is not a SQLite database: exit 3, the file untouched" {
	echo "not a database" >"$BATS_TEST_TMPDIR/notes.db"
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$BATS_TEST_TMPDIR/notes.db")" -m "$m"
	assert_failure 3
	assert_output ""
	stderr_has "notes.db: file is not a database"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/notes.db")" "not a database"
}

@test "58: a directory as the database, and a file in a missing directory: exit 3" {
	mkdir "$BATS_TEST_TMPDIR/dir.db"
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$BATS_TEST_TMPDIR/dir.db")" -m "$m"
	assert_failure 3
	stderr_has "dir.db: unable to open database file"
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$BATS_TEST_TMPDIR/nowhere/app.db")" -m "$m"
	assert_failure 3
	stderr_has "nowhere/app.db: unable to open database file"
	[[ ! -e $BATS_TEST_TMPDIR/nowhere ]]
}

@test "59: mig-status on a missing SQLite file: exit 3, and no file is made" {
	run --separate-stderr mig-status -d "$(sqlite_url "$BATS_TEST_TMPDIR/typo.db")" -m "$m"
	assert_failure 3
	assert_output ""
	stderr_has "typo.db: no such database file"
	[[ ! -e $BATS_TEST_TMPDIR/typo.db ]] || fail "mig-status created the file"
}

# ---- specs -----------------------------------------------------------------------

@test "60: a spec of YAML aliases (a billion laughs) is refused at once, at its line" {
	rejected 2 "$db" timeout 20 mig-check-schema -d "$url" --spec "$(fixture bad_specs)/laughs.yaml"
	stderr_has "laughs.yaml:4:" "YAML aliases are not allowed in a spec"
}

@test "61: mig-stamp --spec with a billion laughs is refused and stamps nothing" {
	legacy=$BATS_TEST_TMPDIR/legacy.db
	make_legacy_db "$legacy"
	rejected 2 "$legacy" timeout 20 mig-stamp b07a366647c3 --spec "$(fixture bad_specs)/laughs.yaml" -d "$(sqlite_url "$legacy")"
	stderr_has "YAML aliases are not allowed in a spec"
}

@test "62: mig-verify -d with a bad spec is refused before it applies anything" {
	empty=$BATS_TEST_TMPDIR/empty.db
	: >"$empty"
	run --separate-stderr mig-verify -d "$(sqlite_url "$empty")" --spec "$(fixture bad_specs)/laughs.yaml"
	assert_failure 2
	stderr_has "YAML aliases are not allowed in a spec"
	assert_equal "$(sqlite_tables "$empty")" ""
}

@test "63: a malformed spec is refused at its line and column" {
	rejected 2 "$db" mig-check-schema -d "$url" --spec "$(fixture bad_specs)/malformed.yaml"
	stderr_has "malformed.yaml:"
}

@test "64: a spec that is a device or a folder is refused: exit 2" {
	rejected 2 "$db" mig-check-schema -d "$url" --spec /dev/zero
	stderr_has "/dev/zero: not a regular file"
	rejected 2 "$db" mig-check-schema -d "$url" --spec "$BATS_TEST_TMPDIR"
	stderr_has "not a regular file"
}

@test "65: a missing spec is refused: exit 2" {
	rejected 2 "$db" mig-check-schema -d "$url" --spec "$BATS_TEST_TMPDIR/nope.yaml"
	stderr_has "nope.yaml: No such file or directory"
}

# ---- injection -------------------------------------------------------------------

INJ="x'; DROP TABLE users;--"

@test "66: SQL as --to of mig-upgrade and mig-downgrade is not a revision: exit 2, SQLite unchanged" {
	rejected 2 "$db" mig-upgrade --to "$INJ" -d "$url" -m "$m"
	stderr_has "'$INJ' is not a revision in"
	rejected 2 "$db" mig-downgrade --to "$INJ" -d "$url" -m "$m"
	stderr_has "'$INJ' is not a revision in"
}

@test "67: SQL as the revision of mig-stamp is refused: exit 4, SQLite unchanged even with --force" {
	rejected 4 "$db" mig-stamp "$INJ" -d "$url" -m "$m"
	stderr_has "'$INJ' is not a revision in"
	rejected 4 "$db" mig-stamp --force "$INJ" -d "$url" -m "$m"
}

@test "68: SQL as --to, as a stamp revision and in a header does nothing on PostgreSQL" {
	require_pg
	pg=$(pg_new_db)
	seeded_pg "$pg"
	rejected 2 "$pg" mig-upgrade --to "$INJ" -d "$pg" -m "$m"
	rejected 2 "$pg" mig-downgrade --to "$INJ" -d "$pg" -m "$m"
	rejected 4 "$pg" mig-stamp --force "$INJ" -d "$pg" -m "$m"
	rejected 2 "$pg" mig-upgrade -d "$pg" -m "$(fixture bad_revision_sql)"
	rejected 2 "$pg" mig-upgrade -d "$pg" -m "$(fixture bad_down_revision_sql)"
}

@test "69: a version table named a\"b is quoted: created, read back, nothing else touched (SQLite)" {
	fresh=$BATS_TEST_TMPDIR/quoted.db
	run --separate-stderr mig-upgrade --version-table 'a"b' -d "$(sqlite_url "$fresh")" -m "$m"
	assert_success
	assert_equal "$(sqlite_sql "$fresh" 'SELECT version_num FROM "a""b"')" "a1b2c3d4e5f6"
	run --separate-stderr mig-status --check --version-table 'a"b' -d "$(sqlite_url "$fresh")" -m "$m"
	assert_success
}

@test "70: a version table named with SQL in it is quoted on PostgreSQL: users untouched" {
	require_pg
	pg=$(pg_new_db)
	pg_sql "$pg" "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann')"
	vt="v\"; DROP TABLE users; --"
	run --separate-stderr mig-upgrade --version-table "$vt" -d "$pg" -m "$m"
	# no migration creates users: a foreign table, left alone (issue 15)
	assert_success
	assert_equal "$(pg_sql "$pg" "SELECT name FROM users")" "ann"
	assert_equal "$(pg_sql "$pg" "SELECT version_num FROM \"v\"\"; DROP TABLE users; --\"")" "a1b2c3d4e5f6"
	run --separate-stderr mig-status --check --version-table "$vt" -d "$pg" -m "$m"
	assert_success
}

@test "71: a --version-schema with SQL in it that does not exist: exit 3, rolled back, nothing created" {
	require_pg
	pg=$(pg_new_db)
	before=$(full_fingerprint "$pg")
	run --separate-stderr mig-upgrade --version-schema "s\"; DROP TABLE users; --" --version-table "$INJ" -d "$pg" -m "$m"
	assert_failure 3
	stderr_has "does not exist" "the database is still at base"
	assert_equal "$(full_fingerprint "$pg")" "$before"
	assert_equal "$(pg_tables "$pg")" ""
}

@test "72: a --version-schema with SQL in it that exists holds the version table, users untouched" {
	require_pg
	pg=$(pg_new_db)
	schema="s\"; DROP TABLE users; --"
	pg_sql "$pg" "CREATE SCHEMA \"s\"\"; DROP TABLE users; --\""
	run --separate-stderr mig-upgrade --version-schema "$schema" -d "$pg" -m "$m"
	assert_success
	pg_sql "$pg" "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann')"
	before=$(full_fingerprint "$pg")
	run --separate-stderr mig-stamp --force a1b2c3d4e5f6 --version-schema "$schema" -d "$pg" -m "$m"
	assert_success
	run --separate-stderr mig-downgrade --sql --to base --version-schema "$schema" -d "$pg" -m "$m"
	assert_success
	assert_output --partial 'DELETE FROM "s""; DROP TABLE users; --"."alembic_version" WHERE version_num ='
	assert_equal "$(full_fingerprint "$pg")" "$before"
}

@test "73: mig-check-schema --schema with SQL in it reads nothing and drops nothing" {
	require_pg
	pg=$(pg_new_db)
	seeded_pg "$pg"
	before=$(full_fingerprint "$pg")
	run --separate-stderr mig-check-schema --schema "public'; DROP TABLE users;--" -d "$pg" --dump
	assert_equal "$(full_fingerprint "$pg")" "$before"
	# a schema that does not exist is an error, not an empty schema
	assert_failure 3
	assert_output ""
	stderr_has "public'; DROP TABLE users;--"
}

@test "74: table and column names with SQL in a spec are only compared (SQLite and PostgreSQL)" {
	spec=$(fixture bad_specs)/inject.yaml
	before=$(full_fingerprint "$db")
	run --separate-stderr mig-check-schema -d "$url" --spec "$spec"
	assert_failure 1
	assert_line --partial "users'; DROP TABLE users;--: table is missing"
	assert_equal "$(full_fingerprint "$db")" "$before"
	if [[ -n ${MIG_PG_PORT:-} ]]; then
		pg=$(pg_new_db)
		seeded_pg "$pg"
		before=$(full_fingerprint "$pg")
		run --separate-stderr mig-check-schema -d "$pg" --spec "$spec"
		assert_failure 1
		assert_line --partial "users'; DROP TABLE users;--: table is missing"
		assert_equal "$(full_fingerprint "$pg")" "$before"
	fi
}

@test "75: mig-stamp --spec naming tables with SQL refuses the stamp and changes nothing" {
	legacy=$BATS_TEST_TMPDIR/legacy.db
	make_legacy_db "$legacy"
	REJECTED_FINDINGS=1 rejected 4 "$legacy" mig-stamp b07a366647c3 --spec "$(fixture bad_specs)/inject.yaml" -d "$(sqlite_url "$legacy")"
	assert_line --partial "inject.yaml:4: error: users'; DROP TABLE users;--: table is missing"
	assert_line --partial "inject.yaml:7: error: widgets\" WHERE 1=1; DELETE FROM users;--: table is missing"
	assert_equal "$(version_rows "$legacy")" ""
}

# ---- passwords ---------------------------------------------------------------------

@test "76: a password with @ % : / ? # & = ' \" percent-encoded connects, and is printed nowhere" {
	require_pg
	pw="p@ss%w:rd/x?#&='\"76"
	enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$pw")
	role=odd_$RANDOM$RANDOM
	sqlpw=${pw//\'/\'\'}
	_mig_psql postgres -c "CREATE ROLE $role LOGIN PASSWORD '$sqlpw'" >/dev/null
	name=odd_db_$RANDOM$RANDOM
	_mig_psql postgres -c "CREATE DATABASE $name OWNER $role" >/dev/null
	u="postgresql://$role:$enc@127.0.0.1:$MIG_PG_PORT/$name"
	summary=$BATS_TEST_TMPDIR/summary.md
	outputs=$BATS_TEST_TMPDIR/outputs
	for cmd in "mig-upgrade" "mig-status" "mig-status --format json" "mig-check-schema --dump" \
		"mig-stamp a1b2c3d4e5f6" "mig-downgrade --to base --sql"; do
		# shellcheck disable=SC2086 # cmd holds a program and its flags
		run --separate-stderr env GITHUB_ACTIONS= $cmd -v -d "$u" -m "$m"
		assert_success
		stderr_lacks "$pw" "$enc" "p@ss" "w:rd"
	done
	assert_equal "$(_mig_psql "$name" -c "SELECT version_num FROM alembic_version")" "a1b2c3d4e5f6"
	# an error after connecting, and the GitHub outputs, show no password either
	run --separate-stderr env GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$summary" GITHUB_OUTPUT="$outputs" \
		mig-upgrade -d "$u" -m "$(fixture badsql_runtime)"
	assert_failure 4
	# ::add-mask:: hands the secret to the runner, which hides it everywhere.
	stderr=$(grep -v '^::add-mask::' <<<"$stderr" || true)
	stderr_lacks "$enc" "p@ss" "w:rd"
	[[ ! -e $summary ]] || ! grep -qF -e "$enc" -e "p@ss" "$summary" || fail "the summary shows the password"
	[[ ! -e $outputs ]] || ! grep -qF -e "$enc" -e "p@ss" "$outputs" || fail "GITHUB_OUTPUT shows the password"
}

# ---- input hygiene (issue 16) ------------------------------------------------------

# m2: the seeded folder plus a pending migration, so a run that fell back to
# another database, or went on, would change something.
pending_folder() {
	m2=$BATS_TEST_TMPDIR/m2
	one_migration "$m2"
	printf -- '-- revision: b2\n-- down_revision: a1b2c3d4e5f6\n\n-- +upgrade\nDROP TABLE users;\n\n-- +downgrade\nSELECT 1;\n' >"$m2/versions/b2_drop.sql"
}

@test "77: -d \"\" (an unset variable) is refused, not replaced by \$DATABASE_URL: exit 2" {
	pending_folder
	rejected 2 "$db" env DATABASE_URL="$url" mig-upgrade -d "" -m "$m2"
	stderr_has "-d/--database-url: the URL is empty (an unset variable?); no database is used in its place"
	rejected 2 "$db" env DATABASE_URL="$url" mig-status -d "" -m "$m2"
}

@test "78: an empty DATABASE_URL is refused: exit 2" {
	pending_folder
	rejected 2 "$db" env DATABASE_URL= mig-upgrade -m "$m2"
	stderr_has "DATABASE_URL is set but empty"
}

@test "79: a URL with a trailing newline (a pasted secret) is refused, and no 'app.db\\n' is made: exit 2" {
	pending_folder
	rejected 2 "$db" env DATABASE_URL="$url"$'\n' mig-upgrade -m "$m2"
	stderr_has "the database URL ends with a newline (character" "store the URL without it"
	stderr_lacks "$db"
	[[ ! -e $db$'\n' ]] || fail "a file named app.db\\n was made"
	rejected 2 "$db" mig-upgrade -d "$url"$'\r\n' -m "$m2"
	stderr_has "the database URL holds a carriage return at character"
	rejected 2 "$db" mig-upgrade -d "$url"$'\t' -m "$m2"
	stderr_has "ends with a tab"
}

@test "80: a URL with surrounding spaces is refused, the URL not printed: exit 2" {
	pending_folder
	rejected 2 "$db" mig-upgrade -d " $url" -m "$m2"
	stderr_has "the database URL starts with a space"
	rejected 2 "$db" mig-upgrade -d "$url " -m "$m2"
	stderr_has "the database URL ends with a space"
	stderr_lacks "$db"
}

@test "81: PostgreSQL: a DATABASE_URL with a trailing newline is refused, the database untouched: exit 2" {
	require_pg
	pending_folder
	local u
	u=$(pg_new_db)
	seeded_pg "$u"
	rejected 2 "$u" env DATABASE_URL="$u"$'\n' mig-upgrade -m "$m2"
	stderr_has "the database URL ends with a newline"
}

@test "82: a password with an unencoded @ is refused with its encoding, no piece printed: exit 2" {
	rejected 2 "$db" mig-upgrade -d "postgresql://app:Hunter@Secret2024@db.invalid/app" -m "$m"
	stderr_has "the password in the database URL holds an unencoded '@'" "write each '@' in the password as %40"
	stderr_lacks "Hunter" "Secret2024" "db.invalid"
}

@test "83: 'postgresql://app:PASSWORD' without a host does not quote the password as a port: exit 2" {
	rejected 2 "$db" mig-upgrade -d "postgresql://app:Hunter2Secret83" -m "$m"
	stderr_has "the port is not a number from 1 to 65535" "without an '@'"
	stderr_lacks "Hunter2Secret83"
}

@test "84: a SQLite URL with user:password@ or ?password= is refused without echoing it: exit 2" {
	rejected 2 "$db" mig-upgrade -d "sqlite://app:Secret-84@/$db" -m "$m"
	stderr_has "a SQLite URL has no host, user or password part"
	stderr_lacks "Secret-84"
	rejected 2 "$db" mig-upgrade -d "$url?password=Secret-84" -m "$m"
	stderr_has "query parameters are not supported in SQLite URLs"
	stderr_lacks "Secret-84"
}

@test "85: mig-verify on a versions folder with no migrations: exit 2, not 'ok'" {
	mkdir -p "$BATS_TEST_TMPDIR/empty/versions"
	rejected 2 "$db" mig-verify -m "$BATS_TEST_TMPDIR/empty"
	stderr_has "empty/versions holds no migrations"
	rejected 2 "$db" mig-verify --lint-only -m "$BATS_TEST_TMPDIR/empty"
}

@test "86: computed .py values (+, a method call, a name, an f-string, a subscript, a conditional) are refused with file:line: exit 2" {
	local py=$BATS_TEST_TMPDIR/py value
	for value in '"abc" + "def"' "'abc'.upper()" 'REV' 'f"abc"' '("abc", "def")[0]' '"abc" if True else "def"'; do
		rm -rf "$py"
		mkdir -p "$py/versions"
		printf 'revision = "r1"\ndown_revision = %s\n\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n' \
			"$value" >"$py/versions/r1_x.py"
		rejected 2 "$db" mig-upgrade -d "$url" -m "$py"
		stderr_has "r1_x.py:2: down_revision:"
		REJECTED_FINDINGS=1 rejected 2 "$db" mig-verify -m "$py"
		stderr_has "r1_x.py:2: down_revision:"
		assert_output --partial "r1_x.py:2: error: down_revision:"
	done
	# a literal with a comment after it is read
	printf 'revision = "r1"  # the id\ndown_revision = None\n\ndef upgrade():\n    pass\n' >"$py/versions/r1_x.py"
	run --separate-stderr mig-verify --lint-only -m "$py"
	assert_success
}

@test "87: PostgreSQL: a 63-character --version-table is refused before anything is made (its _pkc name would not fit): exit 2" {
	require_pg
	pending_folder
	local u name63 name59
	u=$(pg_new_db)
	seeded_pg "$u"
	name63=$(printf 'v%.0s' {1..63})
	name59=$(printf 'v%.0s' {1..59})
	rejected 2 "$u" mig-upgrade --version-table "$name63" -d "$u" -m "$m2"
	stderr_has "--version-table: 63 bytes; with its primary key constraint '<table>_pkc' it must fit this server's 63-byte names" "at most 59 bytes"
	rejected 2 "$u" mig-stamp --version-table "$name63" -d "$u" -m "$m2" a1b2c3d4e5f6
	# mig-verify opens its (empty) database without a session: the same check
	local empty
	empty=$(pg_new_db)
	run --separate-stderr mig-verify --version-table "$name63" -d "$empty" -m "$m2"
	assert_failure 2
	[[ $stderr == *"--version-table: 63 bytes; with its primary key constraint"* ]] || fail "$stderr"
	assert_equal "$(pg_sql "$empty" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0
	# 59 fits: the table and its constraint are made
	run --separate-stderr mig-stamp --version-table "$name59" -d "$u" -m "$m2" a1b2c3d4e5f6
	assert_success
	assert_equal "$(pg_sql "$u" "SELECT conname FROM pg_constraint WHERE conname = '${name59}_pkc'")" "${name59}_pkc"
	# SQLite has no such limit: 63 characters work there
	run --separate-stderr mig-stamp --version-table "$name63" -d "$url" -m "$m2" a1b2c3d4e5f6
	assert_success
}

@test "a PostgreSQL session whose search_path names no existing schema: every program says so (exit 3) and creates nothing" {
	require_pg
	local pg url
	pg=$(pg_new_db)
	url="$pg?options=-csearch_path%3Dno_such_schema"
	local prog
	for prog in mig-status mig-upgrade; do
		run --separate-stderr "$prog" -d "$url" -m "$m"
		assert_failure 3
		[[ $stderr == *"no schema to keep the version table in: none of the search_path's schemas exists"* ]] \
			|| fail "$prog: $stderr"
	done
	assert_equal "$(pg_sql "$pg" "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")" 0
	[[ $stderr == *"hint: create the schema, or fix the search_path"* ]] || fail "$stderr"
	# with both schemas named, the migration's own bare CREATE has none
	run --separate-stderr mig-upgrade --schema public --version-schema public -d "$url" -m "$m"
	assert_failure 3
	[[ $stderr == *".sql:"*": no schema has been selected to create in"* ]] || fail "$stderr"
	assert_equal "$(pg_sql "$pg" "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")" 0
}
