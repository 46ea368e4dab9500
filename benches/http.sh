#!/usr/bin/env bash
# The HTTP protocols beside gRPC, same server, same run: GeneratePassword
# (stateless, the defaults but LOG_LEVEL=warn) over gRPC (h2c), Connect
# JSON over h2c and over HTTP/1.1 keep-alive, and the original API over
# HTTP/1.1 — h2load, 64 concurrent (h2: one connection, 64 streams;
# HTTP/1.1: 64 connections), prints calls/s and mean latency per case.
#
#   bash benches/http.sh              # 8 s per case (docs/BENCHMARKS.md)
#   bash benches/http.sh --short      # CI: 2 s per case, judges nothing
#   bash benches/http.sh --bin PATH   # another build
#
# Needs h2load (Debian's nghttp2-client).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=8
bin=
while (($#)); do
  case $1 in
    --short) seconds=2 ;;
    --bin) bin=$2; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }
if [[ -z $bin ]]; then
  (cd "$root" && cargo build --release --locked --quiet)
  bin="$root/target/release/giropops-senhas"
fi
work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -z $server_pid ]] || { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG_LEVEL=warn "$bin" --listen "127.0.0.1:$port" --metrics-listen off 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do "$bin" healthcheck --addr "http://127.0.0.1:$port" >/dev/null 2>&1 && break; sleep 0.1; done

json='{"length": 16, "includeNumbers": true}'
printf '%s' "$json" >"$work/connect.json"
printf '%s' '{"tamanho": 16, "incluir_numeros": true}' >"$work/original.json"
# The same request as one gRPC frame: length 16 (field 1), include_numbers (field 2).
printf '\x00\x00\x00\x00\x04\x08\x10\x10\x01' >"$work/grpc.bin"
base="http://127.0.0.1:$port"
svc="$base/giropops.v1.PasswordService/GeneratePassword"

echo "# HTTP protocols beside gRPC: $seconds s per case, 64 concurrent, $(nproc) cores, $(h2load --version | head -1)"
printf '%-36s %12s %14s %10s\n' case "calls/s" "mean latency" failed
run() { # name h2load-args...
  local name=$1; shift
  h2load -D "$seconds" --warm-up-time=1 "$@" >"$work/out" 2>&1 || true
  local rps mean failed
  rps=$(awk '/^finished in/ {print $4}' "$work/out")
  mean=$(awk '/^time for request:/ {print $6}' "$work/out")
  failed=$(awk '/^requests:/ {for (i = 1; i <= NF; i++) if ($(i+1) == "failed,") print $i}' "$work/out")
  grep -q '^status codes: .* 0 4xx, 0 5xx' "$work/out" || failed="${failed:-?} (non-2xx)"
  printf '%-36s %12s %14s %10s\n' "$name" "${rps:-?}" "${mean:-?}" "${failed:-?}"
}
run "gRPC (h2c)" -c 1 -m 64 -d "$work/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers' "$svc"
run "Connect JSON (h2c)" -c 1 -m 64 -d "$work/connect.json" -H 'content-type: application/json' "$svc"
run "Connect JSON (HTTP/1.1 keep-alive)" --h1 -c 64 -d "$work/connect.json" -H 'content-type: application/json' "$svc"
run "original API (HTTP/1.1 keep-alive)" --h1 -c 64 -d "$work/original.json" -H 'content-type: application/json' "$base/api/gerar-senha"
