#!/usr/bin/env bash
# verify.sh: the mig-verify step of verify/action.yml, its inputs in the
# environment (MIGRATIONS, SPEC, EXPECT_TABLES, VERIFY_URL, ROUNDTRIP, STRICT,
# REQUIRE_SUM).
# The database URL goes to mig-verify from the environment, and mig-verify
# prints it with the password masked.
set -euo pipefail

fail() {
	echo "::error title=mig verify::$*"
	exit 2
}

# flag NAME VALUE: VALUE is true or false.
flag() {
	[[ $2 == true || $2 == false ]] || fail "$1 must be true or false, not '$2'"
}

flag roundtrip "$ROUNDTRIP"
flag strict "$STRICT"
flag require-sum "${REQUIRE_SUM:-false}"
args=(-m "$MIGRATIONS")
[[ ${REQUIRE_SUM:-false} == false ]] || args+=(--require-sum)
where="a clean SQLite database"
if [[ -n $VERIFY_URL ]]; then
	args+=(-d "$VERIFY_URL" --wait 30)
	where="${VERIFY_URL%%:*}"
fi
if [[ -n $EXPECT_TABLES ]]; then
	[[ $EXPECT_TABLES =~ ^[0-9]+$ ]] || fail "expect-tables must be a number, not '$EXPECT_TABLES'"
	args+=(--expect-tables "$EXPECT_TABLES")
fi
if [[ -n $SPEC ]]; then
	args+=(--spec "$SPEC")
	[[ $STRICT == false ]] || args+=(--strict)
fi
[[ $ROUNDTRIP == false ]] || args+=(--roundtrip)

echo "## mig-verify: $MIGRATIONS on $where" >>"$GITHUB_STEP_SUMMARY"
rc=0
mig-verify "${args[@]}" || rc=$?
if ((rc == 0)); then
	head=$(sed -n 's/^head=//p' "$GITHUB_OUTPUT" | tail -n 1)
	echo "::notice title=mig verify::$MIGRATIONS verified on $where: head ${head:-none}"
elif ((rc >= 1 && rc <= 4)); then
	# mig-verify has annotated the error itself: one error, one annotation
	echo "mig-verify failed on $where (exit $rc); the annotations and the job summary say why"
else
	echo "::error title=mig verify::mig-verify failed on $where (exit $rc)"
fi
exit "$rc"
