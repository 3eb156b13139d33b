#!/usr/bin/env bats
# The README's shell-pipeline recipes, each run exactly as written there: the
# test reads the ```sh block that follows `<!-- recipe: NAME -->` in README.md,
# so a recipe edited in the README is the recipe tested.

load test_helper/common

# recipe NAME: the shell block after <!-- recipe: NAME --> in README.md.
recipe() {
	awk -v name="$1" '
		$0 == "<!-- recipe: " name " -->" { marker = 1; next }
		marker && !inside && /^```/ { inside = 1; next }
		inside && /^```/ { exit }
		inside { print }
	' "$REPO/README.md"
}

# run_recipe NAME: run the recipe with bash in $dir, the working directory of a
# user with this repository's migrations/ at hand.
run_recipe() {
	local text
	text=$(recipe "$1")
	[[ -n $text ]] || fail "README.md has no recipe '$1' (a <!-- recipe: $1 --> line before a \`\`\`sh block)"
	printf '%s\n' "$text" >"$BATS_TEST_TMPDIR/recipe-$1.sh"
	cd "$dir"
	run --separate-stderr bash "$BATS_TEST_TMPDIR/recipe-$1.sh"
}

setup() {
	dir=$BATS_TEST_TMPDIR/work
	mkdir -p "$dir"
	cp -R "$REPO/migrations" "$dir/"
	unset DATABASE_URL
}

@test "every recipe in the README is one this suite runs" {
	run grep -o '^<!-- recipe: [a-z0-9-]* -->$' "$REPO/README.md"
	assert_success
	assert_output "$(printf '<!-- recipe: %s -->\n' fleet-upgrade diff-schemas deploy-gate pending)"
}

@test "fleet-upgrade: upgrades every listed database four at a time and names the one that failed" {
	require_pg
	pg=$(pg_new_db)
	cd "$dir"
	mig-upgrade -q -d sqlite:///current.db
	make_legacy_db "$dir/legacy.db"
	cat >databases.txt <<-EOF
		# staging and the regional copies
		sqlite:///fresh.db
		sqlite:///current.db

		sqlite:///legacy.db
		$pg
	EOF
	run_recipe fleet-upgrade
	assert_failure 123
	assert_equal "${#lines[@]}" 4
	assert_line "ok      sqlite:///fresh.db"
	assert_line "ok      sqlite:///current.db"
	assert_line "ok      $pg"
	assert_line "FAILED  sqlite:///legacy.db (exit 4)"
	[[ $stderr == *"mig-stamp b07a366647c3"* ]]
	assert_equal "$(version_rows "$dir/fresh.db")" "b07a366647c3"
	assert_equal "$(version_rows "$pg")" "b07a366647c3"
	assert_equal "$(count_tables "$pg")" 23
	assert_equal "$(version_rows "$dir/legacy.db")" ""
}

@test "fleet-upgrade: a fleet that is all healthy exits 0" {
	cd "$dir"
	printf 'sqlite:///a.db\nsqlite:///b.db\nsqlite:///c.db\n' >databases.txt
	run_recipe fleet-upgrade
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "$(version_rows "$dir/c.db")" "b07a366647c3"
}

@test "diff-schemas: SQLite and PostgreSQL upgraded by the same migrations have the same schema" {
	require_pg
	export PROD_URL STAGING_URL
	PROD_URL=$(pg_new_db)
	STAGING_URL=$(sqlite_url "$dir/staging.db")
	mig-upgrade -q -d "$PROD_URL" -m "$REPO/migrations"
	mig-upgrade -q -d "$STAGING_URL" -m "$REPO/migrations"
	run_recipe diff-schemas
	assert_success
	assert_output "same schema"
	assert_equal "$stderr" ""
}

@test "diff-schemas: a column added on one side is shown, and the exit status is 1" {
	export PROD_URL STAGING_URL
	PROD_URL=$(sqlite_url "$dir/prod.db")
	STAGING_URL=$(sqlite_url "$dir/staging.db")
	mig-upgrade -q -d "$PROD_URL" -m "$REPO/migrations"
	mig-upgrade -q -d "$STAGING_URL" -m "$REPO/migrations"
	sqlite_sql "$dir/staging.db" "ALTER TABLE agents ADD COLUMN region VARCHAR(20)"
	run_recipe diff-schemas
	assert_failure 1
	assert_line "-      region: {type: varchar(20), nullable: true}"
	refute_line "same schema"
}

@test "diff-schemas: a database that cannot be reached stops the comparison with its error" {
	export PROD_URL STAGING_URL
	PROD_URL=postgresql://nobody@127.0.0.1:1/none
	STAGING_URL=$(sqlite_url "$dir/staging.db")
	mig-upgrade -q -d "$STAGING_URL" -m "$REPO/migrations"
	run_recipe diff-schemas
	assert_failure 3
	assert_output ""
	[[ $stderr == *"cannot connect to postgresql://nobody@127.0.0.1:1/none"* ]]
}

# a ./release that leaves a mark when it runs
make_release() {
	printf '#!/bin/sh\necho released\ntouch released.mark\n' >"$dir/release"
	chmod +x "$dir/release"
}

@test "deploy-gate: a database at head lets the release run" {
	make_release
	export DATABASE_URL
	DATABASE_URL=$(sqlite_url "$dir/app.db")
	mig-upgrade -q
	run_recipe deploy-gate
	assert_success
	assert_output "released"
	[[ -e $dir/released.mark ]]
}

@test "deploy-gate: a legacy database stops the release and says why" {
	require_pg
	make_release
	export DATABASE_URL
	DATABASE_URL=$(pg_new_db)
	make_legacy_db "$DATABASE_URL"
	run_recipe deploy-gate
	assert_failure 1
	assert_output ""
	[[ $stderr == "not releasing: the database is not at head"* ]]
	[[ $stderr == *"state:    legacy (23 tables"* ]]
	[[ ! -e $dir/released.mark ]]
}

@test "deploy-gate: a database that cannot be reached stops the release" {
	make_release
	export DATABASE_URL=postgresql://nobody@127.0.0.1:1/none
	run_recipe deploy-gate
	assert_failure 1
	[[ $stderr == *"not releasing: the database is not at head"* ]]
	[[ ! -e $dir/released.mark ]]
}

@test "pending: lists what the next upgrade would apply, one revision a line" {
	cp "$(fixture after_baseline)"/versions/*.sql "$dir/migrations/versions/"
	export DATABASE_URL
	DATABASE_URL=$(sqlite_url "$dir/app.db")
	mig-upgrade -q --to b07a366647c3
	run_recipe pending
	assert_success
	assert_output "e173b895ecb0  add api gateway tables"
	mig-upgrade -q
	run_recipe pending
	assert_success
	assert_output ""
}
