#!/usr/bin/env bash
# `make run`: start fnhost on its embedded store, deploy the example guests
# with the CLI, print curl lines that call them, and keep serving until
# Ctrl-C. Usage: run-demo.sh BIN LISTEN DATA
set -euo pipefail
bin=$1 listen=$2 data=$3
endpoint="http://$listen"
export FNHOST_DATA="$data" FNHOST_ENDPOINT="$endpoint"

"$bin" serve --listen "$listen" --data "$data" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true' INT TERM
trap 'kill -TERM "$pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 150); do
	if "$bin" ls >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "make run: fnhost serve exited (is $listen already in use? try: make run LISTEN=127.0.0.1:9001)" >&2
		exit 1
	fi
	sleep 0.1
done

deploy() { # GUEST FUNCTION [deploy flags…]
	local guest=$1 fn=$2
	shift 2
	"$bin" deploy "guests/dist/$guest.wasm" --service demo --function "$fn" "$@" >/dev/null
}
deploy hello-go hello
deploy hello-c hello_c
deploy echo-go echo
deploy nethttp-go users
deploy env-go env --env GREETING=bonjour
deploy cgi-c cgi

base="$endpoint/2016-08-15/proxy/demo"
cat <<MSG

fnhost is running on $endpoint with data in $data; example functions deployed
in service "demo". Try:

  curl $base/hello/
  curl $base/hello_c/
  curl -d 'hi there' '$base/echo/some/path?x=1&y=2'
  curl $base/users/users/42
  curl $base/env/
  curl -d 'from curl' '$base/cgi/cgi/path?q=1'
  curl -H 'X-Fc-Log-Type: Tail' -i $base/env/
  curl -i -H 'X-Fc-Invocation-Type: Async' -d 'later' $base/echo/

  export FNHOST_DATA=$data FNHOST_ENDPOINT=$endpoint
  $bin ls demo
  $bin invoke demo/echo --data hello
  $bin logs demo/env
  $bin jobs ls demo/echo

Press Ctrl-C to stop.
MSG
wait "$pid"
