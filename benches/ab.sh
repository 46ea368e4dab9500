#!/usr/bin/env bash
# A/B of two builds on one call, for docs/BENCHMARKS.md ("Group commit:
# before/after", "Profile findings"): one fresh redis-server and server per
# run, 1 s of warm-up (plus 20 GeneratePassword calls in mode redis, so
# ListPasswords reads 10 entries), then ghz -c $CONC -z SECONDS on one
# connection; prints p50/p99, req/s, and the server's and Redis's CPU per call
# (/proc/PID/stat). With perf (default) the server is sampled meanwhile into
# OUT.perf.data; NOPERF=1 skips it. Needs ghz (bash benches/load.sh installs
# it into benches/.tools/bin), redis-server, python3, perf unless NOPERF.
#
#   NOPERF=1 CONC=64 [LOG=info] bash benches/ab.sh BIN redis|stateless METHOD JSON SECONDS OUT
#   e.g. ... giropops.v1.PasswordService/GeneratePassword '{"length":16}' 5 /tmp/ab
set -euo pipefail
bin=$1 mode=$2 method=$3 data=$4 secs=$5 out=$6
ghz=${GHZ:-$(cd "$(dirname "$0")" && pwd)/.tools/bin/ghz}
rport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
redis-server --port $rport --save '' --appendonly no --daemonize no >/dev/null &
rpid=$!
sleep 0.3
help=$($bin --help)
# LOG=info measures the per-call log line (the default level); warn by default.
args=(--listen 127.0.0.1:$port --log-level "${LOG:-warn}")
grep -q -- --anonymous-scopes <<<"$help" && args+=(--anonymous-scopes all)
if [ "$mode" = redis ]; then args+=(--redis-url redis://127.0.0.1:$rport --history-cap 10); grep -q -- --history-keys-file <<<"$help" && args+=(--history-keys-file ephemeral); else args+=(--history-cap 0); fi
env -i PATH=$PATH $bin "${args[@]}" --metrics-listen 127.0.0.1:0 >$out.server.log 2>&1 &
spid=$!
sleep 0.5
# warm + fill (ten entries in the history for ListPasswords)
[ "$mode" = redis ] && $ghz --insecure --call giropops.v1.PasswordService/GeneratePassword -d '{"length":16}' -c 4 -n 20 127.0.0.1:$port >/dev/null
$ghz --insecure --call ${method#/} -d "$data" -c 16 -z 1s 127.0.0.1:$port >/dev/null
t0=$(awk '{print $14+$15}' /proc/$spid/stat); r0=$(awk '{print $14+$15}' /proc/$rpid/stat)
if [ -z "${NOPERF:-}" ]; then perf record -F 1999 ${PERF_EXTRA:-} -p $spid -o $out.perf.data -- sleep $secs >/dev/null 2>&1 & ppid=$!; else ppid=; fi

$ghz --insecure --call ${method#/} -d "$data" -c ${CONC:-64} -z ${secs}s 127.0.0.1:$port --format json > $out.ghz.json
[ -n "$ppid" ] && wait $ppid || true
t1=$(awk '{print $14+$15}' /proc/$spid/stat); r1=$(awk '{print $14+$15}' /proc/$rpid/stat)
python3 - "$out.ghz.json" $t0 $t1 $r0 $r1 <<'PY'
import json,sys
d=json.load(open(sys.argv[1])); n=d["count"]; rps=d["rps"]
t0,t1,r0,r1=map(int,sys.argv[2:6])
lat=d["latencyDistribution"]; p=lambda q: [x["latency"] for x in lat if x["percentage"]==q][0]/1e6
print(f"p50 {p(50):.2f} p99 {p(99):.2f} ms calls {n} rps {rps:.0f} server CPU/call {(t1-t0)*10000/n:.1f} us  redis CPU/call {(r1-r0)*10000/n:.1f} us  codes {d.get('statusCodeDistribution')}")
PY
kill $spid $rpid; wait 2>/dev/null || true
