#!/usr/bin/env bats
# The model-based test of issue 15 (test/exactly_once_model.py): random
# histories of ordinary and hostile migrations, run with random
# interruptions, the invariants checked after every run.  CI runs this fixed
# seed; `make fuzz` runs more (MIG_MODEL_SEED, MIG_MODEL_HISTORIES).

load test_helper/common

# Debian's Python, which has python3-psycopg2 (install-deps.sh), not another
# python3 first on PATH.
MODEL_PYTHON=${MODEL_PYTHON:-/usr/bin/python3}

model() {
	if [[ $1 == postgresql ]] && ! "$MODEL_PYTHON" -c 'import psycopg2' 2>/dev/null; then
		skip "needs psycopg2 for $MODEL_PYTHON (apt-get install python3-psycopg2)"
	fi
	run "$MODEL_PYTHON" "$REPO/test/exactly_once_model.py" --dialect "$1" \
		--seed "${MIG_MODEL_SEED:-15}" --histories "${MIG_MODEL_HISTORIES:-8}" \
		--workdir "$BATS_TEST_TMPDIR"
	assert_success
	assert_output --partial "every invariant held"
}

@test "model: random histories with COMMIT, ROLLBACK, temporary version tables, kill -9 and held locks keep every invariant on SQLite" {
	model sqlite
}

@test "model: random histories with COMMIT, ROLLBACK, SET search_path and other session settings, failing or killed transactional: false sections, DISCARD ALL, kill -9, terminated backends and held locks keep every invariant on PostgreSQL" {
	require_pg
	model postgresql
}
