#!/usr/bin/env bash
# verify-main.sh BIN: the main job. Builds a fresh SQLite database from this
# repository's migrations in a temporary directory and reports what it holds.
set -euo pipefail
bin=${1:-bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/mig-verify.XXXXXX")
trap 'rm -rf "$dir"' EXIT
url="sqlite:///$dir/verify.db"
"$bin/mig-upgrade" -d "$url"
"$bin/mig-status" --check -d "$url"
echo "tables: $(sqlite3 "$dir/verify.db" "SELECT count(*) FROM sqlite_schema
	WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'alembic_version'")"
