#!/usr/bin/env bash
# End-to-end load figures over loopback: every unary call of the service,
# driven by ghz (through server reflection, so the .proto is never parsed
# client-side), plus the health Check with h2load (a lighter C client: the
# server's no-op ceiling with less client CPU in the way).
#
#   bash benches/load.sh            # full: ~10 s per case and concurrency (1, 16, 64), ~6 min
#   bash benches/load.sh --short    # CI: 2 s per case, concurrency 1 and 16, judges nothing
#   options: --duration 5s  --concurrency "1 8"  --bin PATH (skip the build, measure PATH)
#            --keep DIR (keep the raw ghz JSON and h2load logs, rows and report there)
#            --max-other 0.2 [--attempts 3]: run again (after 20 s) a run during
#            which the rest of the machine kept more than 0.2 cores busy
#
# Starts its own redis-server and one fresh server per case (release build,
# free loopback ports, metrics on a free port so the server's own counts of
# every code are reported next to the client's), cleans everything up on
# exit, and stops by itself: every client run is bounded in time.
#
# Per case and concurrency: req/s, p50/p90/p99/max, status codes (client and
# server side), the server's VmHWM, and the ratio of OK/s to the health
# no-op's at the same concurrency. Per server: start → SERVING and idle RSS.
# Needs: go (installs ghz into benches/.tools), h2load (Debian
# nghttp2-client), redis-server, python3, cargo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

GHZ_VERSION=v0.120.0
tools="$here/.tools"

duration=10s
concurrency="1 16 64"
bin=
keep=
max_other=
attempts=1
settle=20
mode_name=full
while (($#)); do
  case $1 in
    --short) duration=2s; concurrency="1 16"; mode_name=short ;;
    --duration) duration=$2; shift ;;
    --concurrency) concurrency=$2; shift ;;
    --bin) bin=$2; shift ;;
    --keep) keep=$2; shift ;;
    --max-other) max_other=$2; shift ;;
    --attempts) attempts=$2; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
seconds=${duration%s}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "--duration takes whole seconds, e.g. 10s" >&2; exit 2; }
[[ -z $max_other || $attempts -gt 1 ]] || attempts=3

for tool in h2load redis-server redis-cli python3 go; do
  command -v "$tool" >/dev/null || { echo "$tool missing (h2load: apt-get install nghttp2-client)" >&2; exit 1; }
done

# ghz, pinned, project-local. Its --version says "dev" when built by go
# install, so the version installed is kept next to it.
ghz="$tools/bin/ghz"
if [[ ! -x $ghz || "$(cat "$tools/bin/ghz.version" 2>/dev/null)" != "$GHZ_VERSION" ]]; then
  echo "# installing ghz $GHZ_VERSION into $tools/bin (about a minute)"
  mkdir -p "$tools/bin"
  GOBIN="$tools/bin" go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
  echo "$GHZ_VERSION" >"$tools/bin/ghz.version"
fi

built=
if [[ -z $bin ]]; then
  built=yes
  cargo build --release --locked --quiet
  bin="$root/target/release/giropops-senhas"
fi

work=$(mktemp -d)
redis_pid=
server_pid=
cleanup() {
  local pid
  for pid in $server_pid $redis_pid; do kill "$pid" 2>/dev/null || true; done
  for pid in $server_pid $redis_pid; do wait "$pid" 2>/dev/null || true; done
  if [[ -n $keep ]]; then mkdir -p "$keep" && cp -r "$work"/. "$keep"/ && echo "# raw results kept in $keep"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }
report="python3 $here/load_report.py"
rows="$work/rows.jsonl"
servers="$work/servers.jsonl"
: >"$rows"
: >"$servers"

# The no-op for h2load: one gRPC frame, uncompressed, an empty
# HealthCheckRequest (0 flag byte, 4-byte length 0).
printf '\x00\x00\x00\x00\x00' >"$work/health-check.bin"

# The costliest CheckPassword input found (see docs/BENCHMARKS.md): every
# character of zxcvbn's l33t table, repeated to the 256-character maximum
# (the project's WORST_CHECK_INPUT pattern).
worst=$(python3 -c 'print(("4@8({[<3&69!1|70$5%+2" * 13)[:256])')
worst_json=$(python3 -c 'import json, sys; print(json.dumps({"password": sys.argv[1]}))' "$worst")

echo "# load benchmark ($mode_name): $duration per run, concurrency $concurrency, one connection per run"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "# versions: $(rustc --version 2>/dev/null || echo 'rustc ?'); ghz $GHZ_VERSION; $(h2load --version | head -1); $(redis-server --version | cut -d' ' -f1-3)"
if [[ -n $built ]]; then
  echo "# server: $bin, built from $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')"
else
  echo "# server: $bin (--bin), sha256 $(sha256sum "$bin" | cut -c1-16)"
fi
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$redis_port" ping >/dev/null

# Flags every server gets, when this build has them (so --bin can measure
# an older build too): reflection on (ghz reads the methods from it), and
# every scope for callers without a token, so generated secrets are stored
# and ListPasswords is allowed (no token files to manage; the scope check
# itself still runs on every call).
common=()
server_help=$("$bin" --help)
grep -q -- '--reflection <' <<<"$server_help" && common+=(--reflection on)
grep -q -- '--anonymous-scopes <' <<<"$server_help" && common+=(--anonymous-scopes all)
echo "# server flags: --log-level warn --metrics-listen <free port> ${common[*]}"

port=
metrics_port=
# start_server CASE MODE FLAGS...: a fresh server; records start → SERVING
# and idle RSS.
start_server() {
  local case=$1 mode=$2 t0 t1 rss
  shift 2
  port=$(free_port)
  metrics_port=$(free_port)
  t0=$(now_ns)
  "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics_port" --log-level warn \
    "${common[@]}" "$@" \
    2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 1000); do
    "$bin" healthcheck --addr "http://127.0.0.1:$port" --timeout 1s >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "server exited:"; tail "$work/server.log"; exit 1; }
    sleep 0.01
  done
  t1=$(now_ns)
  "$bin" healthcheck --addr "http://127.0.0.1:$port" >/dev/null || { echo "server never SERVING"; exit 1; }
  sleep 0.5
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status")
  echo "{\"case\": \"$case\", \"mode\": \"$mode\", \"serving_ms\": $(((t1 - t0) / 1000))e-3, \"idle_rss_kib\": $rss}" >>"$servers"
  echo "## $case [$mode]: SERVING after $(((t1 - t0) / 1000000)) ms, idle RSS $((rss / 1024)) MiB"
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

# cpu_snapshot: wall clock (ns), CPU ticks the machine spent busy, the
# server's and redis-server's ticks, and this shell's waited-for children's
# CPU (bash `times`: the load client). Around each run, it splits the
# cores' work between server, client, Redis and everything else (another
# build on the machine shows up as "other").
# Sets the variable named $1; never in a subshell (`times` must be this
# shell's).
cpu_snapshot() {
  local machine server=0 redis=0
  machine=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
  [[ -z $server_pid ]] || server=$(sed 's/.*) //' "/proc/$server_pid/stat" | awk '{print $12 + $13}')
  [[ -z $redis_pid ]] || redis=$(sed 's/.*) //' "/proc/$redis_pid/stat" | awk '{print $12 + $13}')
  times >"$work/times.txt"
  printf -v "$1" '%s %s %s %s %s' "$(now_ns)" "$machine" "$server" "$redis" "$(tail -1 "$work/times.txt")"
}

# one_run TOOL CASE MODE METHOD DATA C: one client run against the running
# server, then its row (load_report.py exits 3, keeping no row, when the
# machine's other work took more than MAX_OTHER cores).
one_run() {
  local tool=$1 case=$2 mode=$3 method=$4 data=$5 c=$6 out cpu_before cpu_after
  local metrics="http://127.0.0.1:$metrics_port/metrics"
  out="$work/$tool-${case//[^A-Za-z0-9]/_}-$mode-c$c"
  cpu_snapshot cpu_before
  if [[ $tool == ghz ]]; then
    timeout $((seconds + 120)) "$ghz" --insecure --disable-template-data --count-errors \
      --call "${method#/}" -d "$data" -c "$c" --connections 1 \
      -z "$duration" --duration-stop wait -O json -o "$out.json" "127.0.0.1:$port"
    cpu_snapshot cpu_after
    CPU_BEFORE=$cpu_before CPU_AFTER=$cpu_after $report ghz "$rows" "$case" "$mode" "$c" "$metrics" "$method" \
      "$out.json" "$server_pid"
  else
    rm -f "$out.log" # h2load appends to it
    timeout $((seconds + 120)) h2load -c 1 -m "$c" -D "$seconds" -d "$data" \
      -H 'content-type: application/grpc' -H 'te: trailers' \
      --log-file "$out.log" "http://127.0.0.1:$port$method" >"$out.txt"
    cpu_snapshot cpu_after
    CPU_BEFORE=$cpu_before CPU_AFTER=$cpu_after $report h2load "$rows" "$case" "$mode" "$c" "$metrics" "$method" \
      "$out.txt" "$out.log" "$server_pid"
  fi
}

# run_case TOOL CASE MODE METHOD DATA: every concurrency against the running
# server (h2load: one connection, c streams; DATA is the body file). With
# --max-other, a run the rest of the machine disturbed is run again, up to
# --attempts times in all; the last attempt is kept whatever happened.
run_case() {
  local c attempt rc
  $report baseline "$rows" "http://127.0.0.1:$metrics_port/metrics" "$4" "$server_pid"
  for c in $concurrency; do
    for attempt in $(seq "$attempts"); do
      rc=0
      if ((attempt < attempts)); then
        ATTEMPT=$attempt MAX_OTHER=$max_other one_run "$@" "$c" || rc=$?
      else
        ATTEMPT=$attempt one_run "$@" "$c" || rc=$?
      fi
      ((rc == 3)) || break
      echo "    (the machine was busy elsewhere: again in ${settle}s, attempt $((attempt + 1)) of $attempts)"
      sleep "$settle"
    done
    ((rc == 0)) || exit "$rc"
  done
}

health=/grpc.health.v1.Health/Check
svc=/giropops.v1.PasswordService
redis=(--redis-url "redis://127.0.0.1:$redis_port" --history-cap 10)
# Builds that encrypt the history want keys: one key for the whole run, so
# every server process reads what the previous ones stored.
if grep -q -- '--history-keys-file <' <<<"$server_help"; then
  (umask 077 && python3 -c 'import base64, os; print("bench", base64.b64encode(os.urandom(32)).decode())' >"$work/history-keys")
  redis+=(--history-keys-file "$work/history-keys")
fi
stateless=(--history-cap 0)
echo "# mode redis: ${redis[*]}"
echo "# mode stateless: ${stateless[*]}"

# With the Redis history (cap 10, the default).
start_server "Health/Check" redis "${redis[@]}"; run_case ghz "Health/Check" redis "$health" '{}'; stop_server
start_server "Health/Check (h2load)" redis "${redis[@]}"; run_case h2load "Health/Check (h2load)" redis "$health" "$work/health-check.bin"; stop_server
start_server "GeneratePassword" redis "${redis[@]}"
run_case ghz "GeneratePassword" redis "$svc/GeneratePassword" '{"length": 16, "include_numbers": true}'; stop_server
start_server "GeneratePassphrase" redis "${redis[@]}"
run_case ghz "GeneratePassphrase" redis "$svc/GeneratePassphrase" '{}'; stop_server
# The history is full (10 entries) by now: each call reads 10 records.
start_server "ListPasswords" redis "${redis[@]}"
echo "   every ListPasswords call returns $("$bin" list --addr "http://127.0.0.1:$port" --json |
  python3 -c 'import json, sys; print(len(json.load(sys.stdin).get("passwords", [])))') entries"
run_case ghz "ListPasswords" redis "$svc/ListPasswords" '{}'; stop_server
start_server "CheckPassword typical" redis "${redis[@]}"
run_case ghz "CheckPassword typical" redis "$svc/CheckPassword" '{"password": "correct horse battery staple"}'; stop_server
start_server "CheckPassword worst (256 chars)" redis "${redis[@]}"
run_case ghz "CheckPassword worst (256 chars)" redis "$svc/CheckPassword" "$worst_json"; stop_server

# Stateless: no Redis at all.
start_server "Health/Check" stateless "${stateless[@]}"; run_case ghz "Health/Check" stateless "$health" '{}'; stop_server
start_server "GeneratePassword" stateless "${stateless[@]}"
run_case ghz "GeneratePassword" stateless "$svc/GeneratePassword" '{"length": 16, "include_numbers": true}'; stop_server

echo
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg); took $((SECONDS - started)) s"
echo
$report report "$rows" "$servers" | tee "$work/report.md"
