#!/usr/bin/env bash
# verify-main.sh BIN: the main job, as CI runs it. Lints this repository's
# migrations, applies them to a clean temporary SQLite database, checks the
# 23 tables, the foreign-key type rule and migrations/schema.yaml, walks
# the up/down round trip, and checks every file against migrations/mig.sum
# (which must exist: without it mig-verify only warns).
set -euo pipefail
bin=${1:-bin}
if [[ ! -f migrations/mig.sum ]]; then
	echo "verify-main: migrations/mig.sum is missing; run $bin/mig-verify --update-sum and commit it" >&2
	exit 1
fi
exec "$bin/mig-verify" -m migrations --expect-tables 23 --expect-table agent_services \
	--spec migrations/schema.yaml --roundtrip
