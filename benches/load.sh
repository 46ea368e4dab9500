#!/usr/bin/env bash
# End-to-end load figures for GeneratePassword over loopback, with h2load
# (Debian: nghttp2-client): with the Redis history, and stateless.
# Bounded: a fixed number of requests, then everything stops.
#
#   bash benches/load.sh [requests=20000] [clients=8] [streams-per-client=16]
#
# Prints requests/s and latency from h2load, then how many calls the server
# itself counted OK (its Prometheus metrics), so failures cannot hide.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-20000}
clients=${2:-8}
streams=${3:-16}
command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client"; exit 1; }
cargo build --release --locked --quiet
bin=target/release/giropops-senhas
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# One gRPC frame: uncompressed, 4-byte length, GeneratePasswordRequest{length: 16, include_numbers: true}.
printf '\x00\x00\x00\x00\x04\x08\x10\x10\x01' > "$work/request.bin"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)

run() { # label, server flags...
  local label=$1; shift
  local port metrics_port
  port=$(free_port)
  metrics_port=$(free_port)
  "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics_port" --log-level warn "$@" 2>"$work/server.log" &
  local pid=$!
  for _ in $(seq 100); do "$bin" healthcheck --addr "http://127.0.0.1:$port" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== $label: $requests calls, $clients connections x $streams streams"
  h2load -n "$requests" -c "$clients" -m "$streams" -d "$work/request.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$port/giropops.v1.PasswordService/GeneratePassword" |
    grep -E '^(finished in|requests:|time for request:)'
  python3 - "http://127.0.0.1:$metrics_port/metrics" <<'PY'
import re, sys, urllib.request
text = urllib.request.urlopen(sys.argv[1]).read().decode()
ok = re.search(r'giropops_rpc_calls_total\{method="GeneratePassword",code="OK"\} (\d+)', text)
print("server counted OK:", ok.group(1) if ok else 0)
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run "with history (redis, cap 10)" --redis-url "redis://127.0.0.1:$redis_port"
run "stateless (history off)" --history-cap 0
