#!/usr/bin/env bats
# Input hygiene (issue 16): no password on any output path, whatever the
# URL's shape and wherever the password came from (the URL, PGPASSWORD, a
# pgpass file); no workflow command forged by row data, SQL or server
# messages under GitHub Actions; a closed stdout that does not stop a run
# halfway.  The catalog cases (exit code, message, database before and
# after) are in bad-input.bats, numbers 77 on.

load test_helper/common
use_sanitizer_build
load test_helper/faults

# The password every leak test hides: ':' and '!' make its percent-encoded
# form differ from it, and both halves are long enough to grep for.
PW='Hunter2:Secret!2024'
PW_ENC='Hunter2%3ASecret%212024'

setup() {
	out=$BATS_TEST_TMPDIR/out
	err=$BATS_TEST_TMPDIR/err
	summary=$BATS_TEST_TMPDIR/summary.md
	outputs=$BATS_TEST_TMPDIR/outputs
	m=$BATS_TEST_TMPDIR/m
}

# leak_free LABEL: no byte of stdout, stderr, the step summary or
# GITHUB_OUTPUT holds the password, its encoded form or either half;
# ::add-mask:: lines, which hand the secret to the runner, aside (and they
# come before any other line).
leak_free() {
	local label=$1 f hits
	for f in "$out" "$err" "$summary" "$outputs"; do
		[[ -e $f ]] || continue
		hits=$(grep -v '^::add-mask::' "$f" | grep -cF -e "$PW" -e "$PW_ENC" -e 'Hunter2' -e 'Secret!2024' -e 'Secret%212024' || true)
		((hits == 0)) || fail "$label: $(basename "$f") shows the password: $(cat "$f")"
	done
	if grep -q '^::add-mask::' "$err" 2>/dev/null; then
		[[ $(head -1 "$err") == ::add-mask::* ]] ||
			fail "$label: ::add-mask:: is not the first line: $(cat "$err")"
		! grep -qx '::add-mask::.\{1,3\}' "$err" || fail "$label: a piece under 4 characters is masked: $(cat "$err")"
	fi
}

# runs LABEL CMD...: runs CMD with GitHub Actions on, output to the files.
runs() {
	local label=$1
	shift
	rm -f "$out" "$err" "$summary" "$outputs"
	GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$summary GITHUB_OUTPUT=$outputs \
		"$@" >"$out" 2>"$err" || true
	leak_free "$label"
}

# A migration whose SQL quotes the password (the server's error repeats it)
# and one that raises a notice holding it (printed under -v).
leaky_migrations() {
	mkdir -p "$m/versions"
	printf -- "-- revision: a1\n-- down_revision: none\n\n-- +upgrade\nDO \$\$ BEGIN RAISE NOTICE 'the password is %%', '%s'; END \$\$;\nCREATE TABLE widgets (id INTEGER);\n\n-- +downgrade\nDROP TABLE widgets;\n" "$PW" >"$m/versions/a1_notice.sql"
	printf -- "-- revision: b2\n-- down_revision: a1\n\n-- +upgrade\nSELECT '%s'::int;\n\n-- +downgrade\nSELECT 1;\n" "$PW" >"$m/versions/b2_quote.sql"
}

@test "every URL shape that held a password leaks none of it, on every output path" {
	mkdir -p "$m/versions"
	one_migration "$m"
	local db=$BATS_TEST_TMPDIR/app.db u
	for u in "postgresql://app:Hunter2@Secret!2024@db.invalid/app" \
		"postgresql://app:$PW@127.0.0.1:1/app" \
		"postgresql://app:Hunter2Secret!2024" \
		"postgresql://app:$PW_ENC@no-such-host.invalid/app" \
		"postgresql://app:Bad%zz$PW_ENC@127.0.0.1:1/app" \
		"postgresql://app:$PW_ENC@127.0.0.1:1/app" \
		"postgresql://app:$PW_ENC@127.0.0.1:1/app?sslmode=bogus" \
		"postgresql://127.0.0.1:1/app?password=$PW_ENC" \
		"sqlite://app:$PW_ENC@/$db" \
		"sqlite:///$db?password=$PW_ENC" \
		"postgresql://app:$PW_ENC@127.0.0.1:1/app"$'\n' \
		" postgresql://app:$PW_ENC@127.0.0.1:1/app"; do
		runs "mig-upgrade -d '$u'" mig-upgrade -d "$u" -m "$m"
		runs "mig-status --format json -d '$u'" mig-status --format json -v -d "$u" -m "$m"
		runs "DATABASE_URL='$u' mig-status" env DATABASE_URL="$u" mig-status -m "$m"
	done
}

@test "an unencoded @ in the password is refused (exit 2) with the encoding, and no piece is masked alone" {
	one_migration "$m"
	run --separate-stderr env GITHUB_ACTIONS=true mig-upgrade -d "postgresql://app:Hunter2@Secret!2024@db.invalid/app" -m "$m"
	assert_failure 2
	[[ $stderr == *"the password in the database URL holds an unencoded '@'"* ]] || fail "$stderr"
	[[ $stderr == *"%40"* ]] || fail "no encoding in: $stderr"
	# the runner is told the whole secret, never "p" or "db"
	grep -qx '::add-mask::Hunter2@Secret!2024' <<<"$stderr" || fail "the whole secret is not masked: $stderr"
	[[ $(grep -c '^::add-mask::' <<<"$stderr") == 1 ]] || fail "pieces masked: $stderr"
}

@test "PostgreSQL: the password from the URL, PGPASSWORD or a pgpass file is in no message of any failure class" {
	require_pg
	leaky_migrations
	local role=leak_$RANDOM$RANDOM name
	_mig_psql postgres -c "CREATE ROLE $role LOGIN PASSWORD '$PW'" >/dev/null
	name=leak_db_$RANDOM$RANDOM
	_mig_psql postgres -c "CREATE DATABASE $name OWNER $role" >/dev/null
	local host=127.0.0.1:$MIG_PG_PORT pgpass=$BATS_TEST_TMPDIR/pgpass
	printf '127.0.0.1:%s:*:%s:%s\n' "$MIG_PG_PORT" "$role" "${PW//:/\\:}" >"$pgpass"
	chmod 600 "$pgpass"
	local with_url="postgresql://$role:$PW_ENC@$host/$name" bare="postgresql://$role@$host/$name"
	# the password in the URL, in PGPASSWORD, in a pgpass file
	for how in url env file; do
		local u=$with_url envs=(env -u PGPASSWORD -u PGPASSFILE)
		case $how in
		env) u=$bare envs=(env -u PGPASSFILE PGPASSWORD="$PW") ;;
		file) u=$bare envs=(env -u PGPASSWORD PGPASSFILE="$pgpass") ;;
		esac
		_mig_psql "$name" -c "DROP TABLE IF EXISTS widgets; DROP TABLE IF EXISTS alembic_version" >/dev/null
		# SQL error quoting the password, with -v notices holding it: text, JSON, GitHub
		runs "$how: upgrade -v" "${envs[@]}" mig-upgrade -v -d "$u" -m "$m"
		grep -q 'b2_quote.sql' "$err" || fail "$how: the SQL error was not reached: $(cat "$err")"
		grep -q 'server: .*\*\*\*' "$err" || fail "$how: the notice was not printed redacted: $(cat "$err")"
		runs "$how: stamp" "${envs[@]}" mig-stamp -v -d "$u" -m "$m" a1
		[[ -s $summary && -s $outputs ]] || fail "$how: no step summary or outputs were written: $(cat "$err")"
		runs "$how: status" "${envs[@]}" mig-status -v -d "$u" -m "$m"
		[[ -s $outputs ]] || fail "$how: no outputs were written: $(cat "$err")"
		runs "$how: upgrade json" "${envs[@]}" mig-upgrade --format json -v -d "$u" -m "$m"
		runs "$how: status json" "${envs[@]}" mig-status --format json -v -d "$u" -m "$m"
		runs "$how: verify" "${envs[@]}" mig-verify -v -d "$u" -m "$m"
		# refused connection, DNS error, wrong password
		runs "$how: refused" "${envs[@]}" mig-status -d "${u/$host/127.0.0.1:1}" -m "$m"
		runs "$how: dns" "${envs[@]}" mig-status -d "${u/$host/no-such-host.invalid}" -m "$m"
	done
	_mig_psql postgres -c "ALTER ROLE $role PASSWORD 'something-else-entirely'" >/dev/null
	runs "wrong password (url)" mig-status -d "$with_url" -m "$m"
	grep -q 'password authentication failed' "$err" || fail "not the wrong-password class: $(cat "$err")"
	runs "wrong password (env)" env PGPASSWORD="$PW" mig-status -d "$bare" -m "$m"
	grep -q 'password authentication failed' "$err" || fail "not the wrong-password class: $(cat "$err")"
}

# forged_lines FILE...: the lines that the GitHub runner would read as a
# workflow command (split at \r and \n, leading white space trimmed) and
# that are not mig's own: its annotation of the failing file, and its masks
# of the sandbox password (4 characters or more; the forged one is "x").
forged_lines() {
	cat "$@" | tr '\r' '\n' | sed 's/^[[:space:]]*//' | grep '^::\|##\[' |
		grep -v -e '^::error file=[^:]*title=mig database::' -e '^::add-mask::.\{4,\}$' || true
}

forgery_migrations() {
	mkdir -p "$m/versions"
	# row data holding the commands, then an error quoting the row
	printf -- "-- revision: f1\n-- down_revision: none\n\n-- +upgrade\nCREATE TABLE t (v TEXT PRIMARY KEY);\nINSERT INTO t VALUES ('x\n::warning::forged-1' || chr(13) || chr(10) || '::add-mask::x' || chr(13) || '##[add-mask]y %%0A::error::z');\n\n-- +downgrade\nDROP TABLE t;\n" >"$m/versions/f1_rows.sql"
	printf -- "-- revision: f2\n-- down_revision: f1\n\n-- +upgrade\nINSERT INTO t SELECT v FROM t;\n\n-- +downgrade\nSELECT 1;\n" >"$m/versions/f2_dup.sql"
}

@test "GitHub mode: a SQL error quoting SQL with ::warning:: and \\r\\n::add-mask:: forges no command (SQLite)" {
	mkdir -p "$m/versions"
	printf -- "-- revision: s1\n-- down_revision: none\n\n-- +upgrade\nSELECT * FROM \"x\n::warning::forged-1\r\n::add-mask::x\r##[add-mask]y %%0A::error::z\";\n\n-- +downgrade\nSELECT 1;\n" >"$m/versions/s1_sql.sql"
	local db=$BATS_TEST_TMPDIR/f.db
	GITHUB_ACTIONS=true mig-upgrade -v -d "$(sqlite_url "$db")" -m "$m" >"$out" 2>"$err" && fail "the upgrade passed"
	grep -q 'forged-1' "$err" || fail "the message was not printed: $(cat "$err")"
	[[ -z $(forged_lines "$out" "$err") ]] || fail "forged: $(forged_lines "$out" "$err")"
	# the same without GitHub Actions is printed as it is
	mig-upgrade -d "$(sqlite_url "$db")" -m "$m" >"$out" 2>"$err" && fail "the upgrade passed"
	grep -q '^::warning::forged-1' "$err" || fail "outside GitHub the text changed: $(cat "$err")"
}

@test "GitHub mode: row data with \\n::warning::, \\r\\n::add-mask::x and %0A quoted by the server forges no command (PostgreSQL)" {
	require_pg
	forgery_migrations
	local u
	u=$(pg_new_db)
	GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$summary mig-upgrade -v -d "$u" -m "$m" >"$out" 2>"$err" && fail "the upgrade passed"
	grep -q 'forged-1' "$err" || fail "the row was not quoted: $(cat "$err")"
	[[ -z $(forged_lines "$out" "$err") ]] || fail "forged: $(forged_lines "$out" "$err")"
	# the database: f1 applied with its row, f2 rolled back
	assert_equal "$(version_rows "$u")" "f1"
	assert_equal "$(pg_sql "$u" "SELECT count(*) FROM t")" "1"
	GITHUB_ACTIONS=true mig-status --format json -d "$u" -m "$m" >"$out" 2>"$err"
	[[ -z $(forged_lines "$out" "$err") ]] || fail "forged: $(forged_lines "$out" "$err")"
}

# thirty FOLDER: a chain of 30 migrations, each creating a table.
thirty() {
	mkdir -p "$1/versions"
	local i prev=none
	for i in $(seq -w 1 30); do
		printf -- "-- revision: r%s\n-- down_revision: %s\n\n-- +upgrade\nCREATE TABLE t%s (id INTEGER);\n\n-- +downgrade\nDROP TABLE t%s;\n" \
			"$i" "$prev" "$i" "$i" >"$1/versions/r${i}_t.sql"
		prev=r$i
	done
}

# closed_pipe CMD...: runs CMD with stdout on a pipe whose reader is gone
# (so every write fails with EPIPE, and SIGPIPE at its default, as in a
# shell); prints its exit status, then its stderr.
closed_pipe() {
	python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
print(p.returncode)
sys.stdout.write(p.stderr.decode())' "$@"
}

@test "mig-upgrade | head -1 on 30 migrations applies all 30 and exits 0 (SQLite, PostgreSQL)" {
	thirty "$m"
	local db=$BATS_TEST_TMPDIR/app.db
	run bash -c 'set -o pipefail; mig-upgrade -d "$1" -m "$2" | head -1' _ "$(sqlite_url "$db")" "$m"
	assert_success
	assert_equal "$(version_rows "$db")" "r30"
	assert_equal "$(count_tables "$db")" "30"
	# a reader gone before the first line: every write fails, the run goes on
	rm "$db"
	run closed_pipe mig-upgrade -d "$(sqlite_url "$db")" -m "$m"
	assert_line --index 0 "0"
	assert_output --partial "the report was not fully written (Broken pipe); the exit status is the database's"
	assert_equal "$(version_rows "$db")" "r30"
	assert_equal "$(count_tables "$db")" "30"
	# a failing run keeps its own status (3), not a write error's
	printf -- "-- revision: r31\n-- down_revision: r30\n\n-- +upgrade\nSELECT * FROM missing;\n\n-- +downgrade\nSELECT 1;\n" >"$m/versions/r31_bad.sql"
	run closed_pipe mig-upgrade -d "$(sqlite_url "$db")" -m "$m"
	assert_line --index 0 "3"
	assert_equal "$(version_rows "$db")" "r30"
	# a report-only program says the output was lost (exit 2)
	run closed_pipe mig-status -d "$(sqlite_url "$db")" -m "$m"
	assert_line --index 0 "2"
	assert_output --partial "cannot write the output"
	require_pg
	rm "$m/versions/r31_bad.sql"
	local u
	u=$(pg_new_db)
	run closed_pipe mig-upgrade -d "$u" -m "$m"
	assert_line --index 0 "0"
	assert_equal "$(version_rows "$u")" "r30"
	assert_equal "$(count_tables "$u")" "30"
}

# forest DIR N: N base revisions, each with one child (N/2 of each).
forest() {
	python3 - "$1" "$2" <<'PY'
import os, sys
d = os.path.join(sys.argv[1], "versions")
os.makedirs(d)
for i in range(int(sys.argv[2])):
    down = "none" if i % 2 == 0 else "r%06d" % (i - 1)
    with open(os.path.join(d, "r%06d_x.sql" % i), "w") as f:
        f.write("-- revision: r%06d\n-- down_revision: %s\n\n-- +upgrade\nSELECT 1;\n\n-- +downgrade\nSELECT 1;\n" % (i, down))
PY
}

# The plain build: ulimit -v means nothing to AddressSanitizer, which
# reserves terabytes of address space.
@test "memory: a forest of 20,000 bases loads and lints under ulimit -v 262144" {
	forest "$m" 40000
	run --separate-stderr bash -c 'ulimit -v 262144 && exec "$1/mig-verify" --lint-only --allow-multiple-heads -m "$2"' _ "${MIG_BIN:-$REPO/bin}" "$m"
	assert_success
	assert_line "graph: 40000 revisions in $m/versions"
}

# plan.c's topological sort once kept one mark array per head (heads x
# revisions bytes: 20,000 x 40,000 = 800 MB here); now one count per
# revision.
@test "memory: mig-status on a forest of 20,000 bases runs under ulimit -v 262144" {
	forest "$m" 40000
	local db=$BATS_TEST_TMPDIR/empty.db
	sqlite_sql "$db" "PRAGMA user_version = 1"
	run --separate-stderr bash -c 'ulimit -v 262144 && exec "$1/mig-status" -d "$2" -m "$3"' _ "${MIG_BIN:-$REPO/bin}" "$(sqlite_url "$db")" "$m"
	assert_success
}
