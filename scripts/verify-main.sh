#!/usr/bin/env bash
# verify-main.sh BIN: the main job, as CI runs it. Lints this repository's
# migrations, applies them to a clean temporary SQLite database, checks the
# 23 tables, the foreign-key type rule and migrations/schema.yaml, and walks
# the up/down round trip.
set -euo pipefail
bin=${1:-bin}
exec "$bin/mig-verify" -m migrations --expect-tables 23 --expect-table agent_services \
	--spec migrations/schema.yaml --roundtrip
