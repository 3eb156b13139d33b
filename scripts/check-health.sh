#!/usr/bin/env bash
# check-health.sh BASE_URL: is the application up after a deploy?
#
# Asks BASE_URL for /health (the platform's health check), /healthz (liveness)
# and /readyz (readiness, dependencies included) with curl, and prints one line
# per endpoint. An endpoint is healthy when it answers 2xx; one that does not is
# asked again, a bounded number of times, so an application that is still
# starting gets a moment. Every endpoint is checked, even after a failure.
#
#   check-health.sh https://app.example.com
#   HEALTH_RETRIES=10 HEALTH_DELAY=3 check-health.sh http://127.0.0.1:8000
#
# Environment (defaults in brackets):
#   HEALTH_ENDPOINTS        the paths to check ["/health /healthz /readyz"]
#   HEALTH_RETRIES          attempts per endpoint [5]
#   HEALTH_DELAY            seconds between attempts [2]
#   HEALTH_TIMEOUT          seconds for one request, connecting included [5]
#   HEALTH_CONNECT_TIMEOUT  seconds to connect [3]
# An endpoint takes at most RETRIES * (TIMEOUT + DELAY) seconds.
#
# Exit status: 0 every endpoint healthy, 1 some endpoint failing (named on the
# last line), 2 bad usage. User and password in BASE_URL are never printed.
set -euo pipefail

prog=check-health

usage() {
	echo "usage: $prog BASE_URL   (e.g. $prog https://app.example.com)" >&2
	exit 2
}

# positive NAME VALUE: VALUE must be a positive number (decimals allowed).
positive() {
	if [[ ! $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] || [[ $2 =~ ^0+(\.0+)?$ ]]; then
		echo "$prog: $1 must be a positive number, not '$2'" >&2
		exit 2
	fi
}

(($# == 1)) || usage
base=${1%/}
[[ $base =~ ^https?://[^/]+ ]] || {
	echo "$prog: '$1' is not an http:// or https:// URL" >&2
	exit 2
}
endpoints=${HEALTH_ENDPOINTS:-/health /healthz /readyz}
retries=${HEALTH_RETRIES:-5}
delay=${HEALTH_DELAY:-2}
timeout=${HEALTH_TIMEOUT:-5}
connect_timeout=${HEALTH_CONNECT_TIMEOUT:-3}
[[ $retries =~ ^[1-9][0-9]*$ ]] || {
	echo "$prog: HEALTH_RETRIES must be a whole number of at least 1, not '$retries'" >&2
	exit 2
}
[[ $delay =~ ^[0-9]+(\.[0-9]+)?$ ]] || {
	echo "$prog: HEALTH_DELAY must be a number of seconds, not '$delay'" >&2
	exit 2
}
positive HEALTH_TIMEOUT "$timeout"
positive HEALTH_CONNECT_TIMEOUT "$connect_timeout"
command -v curl >/dev/null 2>&1 || {
	echo "$prog: curl is not installed (scripts/install-deps.sh installs it)" >&2
	exit 2
}

# The base URL as printed: without user:password@.
shown=$(sed -E 's#^(https?://)[^/@]*@#\1#' <<<"$base")
echo "$prog: $shown (up to $retries attempts per endpoint)"

# probe PATH: one request; prints the HTTP status, or "000 REASON" when there
# was no HTTP answer at all.
probe() {
	local code err rc=0
	err=$(mktemp)
	code=$(curl --silent --show-error --output /dev/null --write-out '%{http_code}' \
		--max-time "$timeout" --connect-timeout "$connect_timeout" \
		--proto =http,https --max-redirs 3 --location \
		-- "$base$1" 2>"$err") || rc=$?
	if ((rc != 0)) && [[ ${code:-000} == 000 ]]; then
		code="000 $(sed -E 's/^curl: \([0-9]+\) //; s#https?://[^/@ ]*@#//#g' "$err" | head -n 1)"
	fi
	rm -f "$err"
	echo "${code:-000}"
}

failing=()
for path in $endpoints; do
	[[ $path == /* ]] || path=/$path
	result='' attempt=0
	while ((attempt < retries)); do
		attempt=$((attempt + 1))
		result=$(probe "$path")
		[[ $result == 2[0-9][0-9] ]] && break
		if ((attempt < retries)); then sleep "$delay"; fi
	done
	if [[ $result == 2[0-9][0-9] ]]; then
		printf 'ok      %-9s HTTP %s (attempt %d)\n' "$path" "$result" "$attempt"
	elif [[ $result == 000* ]]; then
		printf 'FAILED  %-9s no answer after %d attempts: %s\n' "$path" "$attempt" "${result#000 }"
		failing+=("$path")
	else
		printf 'FAILED  %-9s HTTP %s after %d attempts\n' "$path" "$result" "$attempt"
		failing+=("$path")
	fi
done

if ((${#failing[@]} > 0)); then
	echo "$prog: failing: ${failing[*]}" >&2
	exit 1
fi
echo "$prog: all healthy"
