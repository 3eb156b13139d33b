#!/usr/bin/env bash
# verify-main.sh BIN: the main job, as CI runs it. Lints this repository's
# migrations, applies them to a clean temporary SQLite database, checks the
# 23 tables, the foreign-key type rule and migrations/schema.yaml, walks
# the up/down round trip, and checks every file against migrations/mig.sum
# (--require-sum: it must be there).
set -euo pipefail
bin=${1:-bin}
exec "$bin/mig-verify" -m migrations --require-sum --expect-tables 23 --expect-table agent_services \
	--spec migrations/schema.yaml --roundtrip
