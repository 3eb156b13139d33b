#!/usr/bin/env bats
# scripts/check-health.sh against a real HTTP server on 127.0.0.1
# (test/fixtures/wf_http/health_server.py), and against a port nothing listens on.

load test_helper/common

check_health() {
	"$REPO/scripts/check-health.sh" "$@"
}

# serve PATH=ANSWERS...: start the test server; sets $base to its URL.
serve() {
	local portfile=$BATS_TEST_TMPDIR/port i
	python3 "$REPO/test/fixtures/wf_http/health_server.py" "$portfile" "$@" \
		</dev/null >/dev/null 2>&1 3>&- &
	server_pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $portfile ]] && break
		sleep 0.05
	done
	[[ -s $portfile ]] || fail "the test HTTP server did not start"
	base="http://127.0.0.1:$(<"$portfile")"
}

# free_port: a port on 127.0.0.1 that nothing listens on (bound, then released).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

setup() {
	server_pid=''
	export HEALTH_RETRIES=2 HEALTH_DELAY=0.1 HEALTH_TIMEOUT=2 HEALTH_CONNECT_TIMEOUT=1
}

teardown() {
	if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
}

@test "all three endpoints healthy: one ok line each and exit 0" {
	serve /health=200 /healthz=200 /readyz=204
	run --separate-stderr check_health "$base"
	assert_success
	assert_line --index 0 "check-health: $base (up to 2 attempts per endpoint)"
	assert_line --index 1 "ok      /health   HTTP 200 (attempt 1)"
	assert_line --index 2 "ok      /healthz  HTTP 200 (attempt 1)"
	assert_line --index 3 "ok      /readyz   HTTP 204 (attempt 1)"
	assert_line --index 4 "check-health: all healthy"
	assert_equal "$stderr" ""
}

@test "a trailing slash on the base URL is accepted" {
	serve /health=200 /healthz=200 /readyz=200
	run --separate-stderr check_health "$base/"
	assert_success
	assert_line "ok      /readyz   HTTP 200 (attempt 1)"
}

@test "a readiness endpoint answering 500 fails the check and is named, the others still checked" {
	serve /health=200 /healthz=200 /readyz=500
	run --separate-stderr check_health "$base"
	assert_failure 1
	assert_line "ok      /health   HTTP 200 (attempt 1)"
	assert_line "ok      /healthz  HTTP 200 (attempt 1)"
	assert_line "FAILED  /readyz   HTTP 500 after 2 attempts"
	refute_line "check-health: all healthy"
	assert_equal "$stderr" "check-health: failing: /readyz"
}

@test "an endpoint the application does not have (404) fails the check" {
	serve /health=200 /readyz=200
	run --separate-stderr check_health "$base"
	assert_failure 1
	assert_line "FAILED  /healthz  HTTP 404 after 2 attempts"
	assert_equal "$stderr" "check-health: failing: /healthz"
}

@test "an application still starting is retried until it answers 2xx" {
	serve /health=503,503,200 /healthz=200 /readyz=200
	HEALTH_RETRIES=3 run --separate-stderr check_health "$base"
	assert_success
	assert_line "ok      /health   HTTP 200 (attempt 3)"
}

@test "retries are bounded: an endpoint that recovers too late still fails" {
	serve /health=503,503,200 /healthz=200 /readyz=200
	run --separate-stderr check_health "$base"
	assert_failure 1
	assert_line "FAILED  /health   HTTP 503 after 2 attempts"
}

@test "a request that outlasts HEALTH_TIMEOUT fails with the reason" {
	serve /health=200 /healthz=200 /readyz=slow
	HEALTH_RETRIES=1 HEALTH_TIMEOUT=1 run --separate-stderr check_health "$base"
	assert_failure 1
	assert_line --regexp '^FAILED  /readyz   no answer after 1 attempts: .*[Tt]imed out'
	assert_equal "$stderr" "check-health: failing: /readyz"
}

@test "nothing listening: every endpoint fails with the connection error, exit 1" {
	port=$(free_port)
	run --separate-stderr check_health "http://127.0.0.1:$port"
	assert_failure 1
	assert_line --regexp "^FAILED  /health   no answer after 2 attempts: .*(Couldn't connect|Connection refused)"
	assert_line --regexp "^FAILED  /healthz  no answer after 2 attempts: "
	assert_line --regexp "^FAILED  /readyz   no answer after 2 attempts: "
	assert_equal "$stderr" "check-health: failing: /health /healthz /readyz"
}

@test "a user and password in the base URL are never printed" {
	port=$(free_port)
	run check_health "http://ops:S3cret-pw@127.0.0.1:$port"
	assert_failure 1
	assert_line "check-health: http://127.0.0.1:$port (up to 2 attempts per endpoint)"
	[[ $output != *S3cret-pw* ]] || fail "the password was printed: $output"
}

@test "HEALTH_ENDPOINTS replaces the list of paths" {
	serve /livez=200
	HEALTH_ENDPOINTS="/livez" run --separate-stderr check_health "$base"
	assert_success
	assert_line "ok      /livez    HTTP 200 (attempt 1)"
	refute_line --partial "/health "
}

@test "bad usage exits 2 with a message" {
	run --separate-stderr check_health
	assert_failure 2
	[[ $stderr == "usage: check-health BASE_URL"* ]]
	run --separate-stderr check_health ftp://example.invalid
	assert_failure 2
	assert_equal "$stderr" "check-health: 'ftp://example.invalid' is not an http:// or https:// URL"
	HEALTH_RETRIES=0 run --separate-stderr check_health http://127.0.0.1:1
	assert_failure 2
	[[ $stderr == *"HEALTH_RETRIES must be a whole number of at least 1"* ]]
}
