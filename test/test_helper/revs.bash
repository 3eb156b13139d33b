# Helpers for suites that write small migration histories by hand
# (invariants.bats, exactly-once.bats, step-writes.bats): one revision file
# per call, a fresh database of either dialect, and the database's tables
# and rows as one line to compare.

# rev DIR ID DOWN UP_SQL [DOWN_SQL] [HEADER_LINE]: writes DIR/versions/ID.sql.
rev() {
	local dir=$1 id=$2 down=$3 up=$4 downsql=${5:-SELECT 1;} header=${6:-}
	mkdir -p "$dir/versions"
	{
		printf -- '-- revision: %s\n-- down_revision: %s\n' "$id" "$down"
		[[ -n $header ]] && printf -- '%s\n' "$header"
		printf -- '\n-- +upgrade\n%s\n\n-- +downgrade\n%s\n' "$up" "$downsql"
	} >"$dir/versions/$id.sql"
}

# new_db DIALECT: sets DB (what the helpers take) and URL (what mig takes).
new_db() {
	if [[ $1 == postgresql ]]; then
		require_pg
		URL=$(pg_new_db)
		DB=$URL
	else
		DB=$BATS_TEST_TMPDIR/db.sqlite
		URL=$(sqlite_url "$DB")
	fi
}

# tables DB: the tables, without mig's own, on one line.
tables() {
	if _mig_is_pg "$1"; then
		pg_tables "$1" | grep -vx -e alembic_version -e mig_history | paste -sd' ' -
	else
		sqlite_tables "$1" | grep -vx -e alembic_version -e mig_history | paste -sd' ' -
	fi
}

# sql DB SQL: runs SQL on either kind of database.
sql() {
	if _mig_is_pg "$1"; then pg_sql "$1" "$2"; else sqlite_sql "$1" "$2"; fi
}

# wait_for_sql DB SQL: polls (60 s at most) until SQL prints "t".
wait_for_sql() {
	local i
	for ((i = 0; i < 600; i++)); do
		[[ $(pg_sql "$1" "$2") == t ]] && return 0
		sleep 0.1
	done
	fail "waited 60 s for: $2"
}
