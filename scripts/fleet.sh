#!/usr/bin/env bash
# fleet.sh: run one mig program on many databases at once, and sum it up.
#
#   fleet.sh [-j N] FLEET [-- PROGRAM [ARGS...]]
#   fleet.sh -j 4 fleet.txt -- mig-upgrade -m migrations
#
# FLEET holds one database a line: a label and the name of the environment
# variable that holds its URL ("eu-1 EU1_DATABASE_URL"), so that passwords
# stay out of files and process lists; a URL without a password may be
# written in place of the name. Blank lines and lines starting with # are
# skipped. PROGRAM (default mig-upgrade) runs once per database under GNU
# parallel, at most N at a time (default 4), as
#   DATABASE_URL=<url> PROGRAM ARGS --label LABEL --format json
# Its diagnostics reach stderr prefixed with the label (parallel --tag);
# its JSON documents are turned into one table on stdout with jq, and
# appended to $GITHUB_STEP_SUMMARY when that is set.
#
# Exit status: 0 when every database succeeded; else the highest exit status
# of the failed runs (1 found problems, 3 database error, 4 refused), with
# the failed labels named on the last line of stderr; 2 bad usage or fleet
# file.
set -euo pipefail

prog=fleet.sh
jobs=4

usage() {
	echo "usage: $prog [-j N] FLEET [-- PROGRAM [ARGS...]]" >&2
	exit 2
}

while (($#)); do
	case $1 in
	-j)
		(($# >= 2)) || usage
		[[ $2 =~ ^[1-9][0-9]{0,2}$ ]] || { echo "$prog: -j needs a number from 1 to 999, not '$2'" >&2; exit 2; }
		jobs=$2
		shift 2
		;;
	-h | --help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) usage ;;
	-*) echo "$prog: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
(($# >= 1)) || usage
fleet=$1
shift
if (($#)); then
	[[ $1 == -- ]] || usage
	shift
fi
(($#)) || set -- mig-upgrade
[[ -r $fleet ]] || { echo "$prog: cannot read the fleet file '$fleet'" >&2; exit 2; }
for tool in parallel jq; do
	command -v "$tool" >/dev/null || { echo "$prog: $tool is needed (Debian package '$tool')" >&2; exit 2; }
done

# Check the fleet file whole before anything runs: a typo must not leave
# half a fleet migrated.
declare -A seen=()
labels=()
lineno=0
while IFS= read -r line || [[ -n $line ]]; do
	lineno=$((lineno + 1))
	[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
	read -r label where extra <<<"$line"
	if [[ -z ${where:-} || -n ${extra:-} ]]; then
		echo "$prog: $fleet:$lineno: expected 'LABEL VARIABLE' (or 'LABEL URL')" >&2
		exit 2
	fi
	[[ $label =~ ^[A-Za-z0-9._@:-]{1,100}$ ]] || { echo "$prog: $fleet:$lineno: label '$label': letters, digits and . _ @ : - only" >&2; exit 2; }
	[[ -z ${seen[$label]:-} ]] || { echo "$prog: $fleet:$lineno: label '$label' is used twice" >&2; exit 2; }
	seen[$label]=1
	if [[ $where != *://* ]]; then
		[[ $where =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "$prog: $fleet:$lineno: '$where' is neither a URL nor a variable name" >&2; exit 2; }
		[[ -n ${!where:-} ]] || { echo "$prog: $fleet:$lineno: the variable $where is not set" >&2; exit 2; }
		export "${where?}"
	fi
	labels+=("$label")
done <"$fleet"
((${#labels[@]})) || { echo "$prog: $fleet names no database" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One job per database: the URL goes to the program through DATABASE_URL,
# never its command line; its document and exit status go to files of
# its own.
# shellcheck disable=SC2016 # expanded by the job's shell, not here
job='label=$1 where=$2 out=$3; shift 3
if [[ $where == *://* ]]; then url=$where; else url=${!where}; fi
DATABASE_URL=$url "$@" --label "$label" --format json >"$out/$label.json"
rc=$?; echo "$rc" >"$out/$label.rc"; exit "$rc"'
status=0
grep -Ev '^[[:space:]]*(#|$)' "$fleet" |
	parallel --will-cite -q --tag --tagstring '{1}' --line-buffer -j "$jobs" \
		--colsep '[[:space:]]+' bash -c "$job" fleet '{1}' '{2}' "$work" "$@" ||
	status=$?

# The table: one row per database, in the fleet file's order.
table=$(for label in "${labels[@]}"; do
	doc=$work/$label.json
	if [[ -s $doc ]] && jq -e . "$doc" >/dev/null 2>&1; then
		cat "$doc"
	else	# no document at all: the program crashed or could not start
		jq -cn --arg l "$label" '{label: $l, ok: false, error: {code: 99, message: "no JSON document (see the log)"}}'
	fi
done | jq -rs '
	def cell: tostring | gsub("\\|"; "\\|") | gsub("[\n\r]"; " ");
	def revs: if . == null then "" elif length == 0 then "base" else join(", ") end;
	"| database | result | from | to | steps | error |",
	"|---|---|---|---|---:|---|",
	(.[] | "| \(.label | cell) | \(if .ok then "ok" else "**failed** (exit \(.error.code // 1))" end) | \(.from | revs | cell) | \(.to | revs | cell) | \(((.applied // .reverted // []) | length)) | \(.error.message // "" | cell) |")')
echo "$table"
if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
	printf '### fleet: %s\n\n%s\n\n' "$*" "$table" >>"$GITHUB_STEP_SUMMARY"
fi

# Which failed: each job's exit status (none: it never ran to the end).
failed=()
worst=0
for label in "${labels[@]}"; do
	code=$(cat "$work/$label.rc" 2>/dev/null || echo 99)
	[[ $code =~ ^[0-9]+$ ]] || code=99
	((code == 0)) && continue
	failed+=("$label")
	((code > worst)) && worst=$code
done
if ((${#failed[@]})); then
	echo "$prog: ${#failed[@]} of ${#labels[@]} databases failed: ${failed[*]}" >&2
	exit "$worst"
fi
if ((status != 0)); then
	echo "$prog: GNU parallel failed (status $status)" >&2
	exit 3
fi
echo "$prog: all ${#labels[@]} databases succeeded" >&2
