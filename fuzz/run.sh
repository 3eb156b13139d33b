#!/usr/bin/env bash
# fuzz/run.sh: builds the libFuzzer targets and runs each from its seed corpus.
#
#   fuzz/run.sh [SECONDS] [TARGET ...]    (default: $FUZZ_SECONDS, else 60;
#                                          every fuzz/fuzz_*.c)
#
# The library sources are compiled with clang, ASan and UBSan into
# fuzz/build/lib/, each target is linked with -fsanitize=fuzzer into
# fuzz/build/, and each runs for SECONDS from fuzz/corpus/TARGET/. New corpus
# entries go to a temporary folder (the committed corpus is only read);
# crashes, leaks and timeouts are written to fuzz/build/artifacts/TARGET/.
# Prints one line per target with its number of executions, and exits 1 when
# any target crashed, leaked, timed out or printed a sanitizer report, and 2
# when the build fails.
#
# Environment: CC (default clang), FUZZ_SECONDS, FUZZ_JOBS (parallel
# compiles, default the number of CPUs), FUZZ_ARGS (more libFuzzer flags),
# FUZZ_LIB (library sources, default tools/lib) and FUZZ_OUT (default
# fuzz/build): together they try a patched copy of the library in a folder
# of its own without touching the tree.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

seconds=${1:-${FUZZ_SECONDS:-60}}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
	echo "run.sh: '$seconds' is not a number of seconds" >&2
	exit 2
fi
shift $(($# > 0 ? 1 : 0))
if (($# > 0)); then
	targets=("$@")
else
	mapfile -t targets < <(find fuzz -maxdepth 1 -name 'fuzz_*.c' | LC_ALL=C sort |
		sed 's#^fuzz/##; s/\.c$//')
fi

for t in "${targets[@]}"; do
	if [[ ! -f fuzz/$t.c ]]; then
		echo "run.sh: no fuzz target fuzz/$t.c" >&2
		exit 2
	fi
done

CC=${CC:-clang}
OUT=${FUZZ_OUT:-fuzz/build}
LIB=${FUZZ_LIB:-tools/lib}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
WARN="-std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral"
read -r -a pkg <<<"$(pkg-config --cflags libpq sqlite3 yaml-0.1 nettle inih)"
# libpq is not linked: the library loads it when a URL needs it (pq.c);
# nettle hashes migration files (sum.c); inih reads alembic.ini (alembicini.c)
read -r -a libs <<<"$(pkg-config --libs sqlite3 yaml-0.1 nettle inih)"
read -r -a san <<<"$SAN"
read -r -a warn <<<"$WARN"
cflags=(-O1 -g "${san[@]}" "${pkg[@]}" "${warn[@]}" -I"$LIB")

# newer FILE THAN...: true when FILE is missing or older than any of the rest.
newer() {
	local out=$1 f
	shift
	[[ -e $out ]] || return 0
	for f in "$@"; do
		[[ $f -nt $out ]] && return 0
	done
	return 1
}

build() {
	mkdir -p "$OUT/lib"
	local headers=("$LIB"/*.h) objs=() todo=() src obj
	# a change of compiler or flags rebuilds everything
	local flags="$CC ${cflags[*]}"
	if [[ ! -f $OUT/flags || $(<"$OUT/flags") != "$flags" ]]; then
		rm -f "$OUT"/lib/*.o "$OUT"/fuzz_*
		printf '%s\n' "$flags" >"$OUT/flags"
	fi
	for src in "$LIB"/*.c; do
		obj=$OUT/lib/$(basename "${src%.c}").o
		objs+=("$obj")
		if newer "$obj" "$src" "${headers[@]}"; then
			todo+=("$src")
		fi
	done
	if ((${#todo[@]} > 0)); then
		echo "# compiling ${#todo[@]} library sources"
		local jobs=${FUZZ_JOBS:-$(nproc)} running=0 bad=0
		for src in "${todo[@]}"; do
			if ((running >= jobs)); then
				wait -n || bad=1
				running=$((running - 1))
			fi
			"$CC" "${cflags[@]}" -fsanitize=fuzzer-no-link -c \
				-o "$OUT/lib/$(basename "${src%.c}").o" "$src" &
			running=$((running + 1))
		done
		while ((running > 0)); do
			wait -n || bad=1
			running=$((running - 1))
		done
		((bad == 0)) || return 1
	fi
	local t
	for t in "${targets[@]}"; do
		if newer "$OUT/$t" "fuzz/$t.c" fuzz/*.h "${objs[@]}"; then
			echo "# linking $t"
			"$CC" "${cflags[@]}" -fsanitize=fuzzer -o "$OUT/$t" "fuzz/$t.c" \
				"${objs[@]}" "${libs[@]}" -lm -ldl || return 1
		fi
	done
}

# Debian's clang only recommends its runtimes (libclang-rt-14-dev), so say
# so rather than fail to link.
if ! command -v "$CC" >/dev/null ||
	[[ $("$CC" -print-file-name="libclang_rt.fuzzer-$(uname -m).a") != /* ]]; then
	echo "run.sh: $CC with libFuzzer is needed (Debian: apt-get install clang libclang-rt-14-dev)" >&2
	exit 2
fi
if ! build; then
	echo "run.sh: the fuzz build failed" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mig-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
report_re='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)|ALARM: working on the last Unit'
read -r -a extra <<<"${FUZZ_ARGS:-}"
failed=()
for t in "${targets[@]}"; do
	corpus=fuzz/corpus/$t
	if [[ ! -d $corpus ]]; then
		echo "run.sh: no seed corpus $corpus" >&2
		exit 2
	fi
	mkdir -p "$OUT/artifacts/$t" "$work/$t"
	log=$OUT/artifacts/$t.log
	dict=()
	[[ -f fuzz/$t.dict ]] && dict=(-dict="fuzz/$t.dict")
	echo "# $t: ${seconds}s from $corpus"
	rc=0
	# TMPDIR: what a target leaves behind when it dies goes with $work
	TMPDIR=$work "$OUT/$t" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
		-detect_leaks=1 -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts/$t/" "${dict[@]}" "${extra[@]}" \
		"$work/$t" "$corpus" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	found=$(grep -cE "$report_re" "$log" || true)
	if ((rc != 0 || found > 0)); then
		failed+=("$t")
		echo "$t: FAILED (exit $rc, ${execs:-?} executions); log: $log"
		grep -E -m 5 "$report_re|^SUMMARY|Test unit written" "$log" | sed 's/^/  /' || true
	else
		echo "$t: ok, ${execs:-?} executions in ${seconds}s, corpus $(find "$work/$t" -type f | wc -l) new"
	fi
done

if ((${#failed[@]} > 0)); then
	echo "run.sh: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
	exit 1
fi
echo "run.sh: ${#targets[@]} targets ok"
