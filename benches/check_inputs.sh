#!/usr/bin/env bash
# Which 256-character CheckPassword input costs the server most? Times a
# set of crafted candidates (l33t tables, keyboard walks, repeated words,
# dates, sequences, one repeated letter...), one call at a time, in
# interleaved rounds so a noisy neighbour skews them all alike, and prints
# them slowest first. benches/load.sh uses the slowest family found.
#
#   bash benches/check_inputs.sh [calls-per-round=5] [rounds=3] [--bin PATH]
#
# Needs ghz (benches/load.sh installs it into benches/.tools) and a release
# build (built here unless --bin). Starts a stateless server on a free
# loopback port and stops it on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
bin=
args=()
while (($#)); do
  case $1 in
    --bin) bin=$2; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
calls=${args[0]:-5}
rounds=${args[1]:-3}
ghz="$here/.tools/bin/ghz"
[[ -x $ghz ]] || { echo "no $ghz: run benches/load.sh --short once (it installs ghz)" >&2; exit 1; }
if [[ -z $bin ]]; then
  cargo build --release --locked --quiet
  bin="$root/target/release/giropops-senhas"
fi

work=$(mktemp -d)
server_pid=
cleanup() { [[ -z $server_pid ]] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; } || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" --listen "127.0.0.1:$port" --history-cap 0 --metrics-listen off --log-level warn 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 500); do "$bin" healthcheck --addr "http://127.0.0.1:$port" >/dev/null 2>&1 && break; sleep 0.01; done

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
l33t = "4@8({[<3&69!1|70$5%+2"  # every character of zxcvbn's l33t table
candidates = {
    "l33t table": l33t,
    "l33t table, reversed": l33t[::-1],
    "l33t table, shuffled": "620715439%+!8{|<@$([",
    "l33t table, doubled": "44@@88(({{[[<<3369!!1||70$5%+2",
    "l33t words": "p@$$w0rd1!",
    "l33t dictionary": "4dm1n$up3rm@n",
    "keyboard walk": "qwertyuiopasdfghjklzxcvbnm1234567890",
    "keyboard walk, columns": "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "dictionary words": "passwordmonkeydragon",
    "dates": "19871988198919901991",
    "alphabet": "abcdefghijklmnopqrstuvwxyz",
    "one letter": "a",
    "typical passphrase": "correct horse battery staple ",
}
with open(f"{work}/candidates.jsonl", "w") as f:
    for name, unit in candidates.items():
        password = (unit * (256 // len(unit) + 1))[:256]
        f.write(json.dumps({"name": name, "data": json.dumps({"password": password})}) + "\n")
PY

: >"$work/times"
for round in $(seq "$rounds"); do
  while IFS= read -r line; do
    name=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["name"])' "$line")
    data=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["data"])' "$line")
    "$ghz" --insecure --disable-template-data --call giropops.v1.PasswordService/CheckPassword \
      -d "$data" -n "$calls" -c 1 -O json "127.0.0.1:$port" |
      python3 -c 'import json, sys; r = json.load(sys.stdin); print(sys.argv[1], r["average"] / 1e6, json.dumps(r["statusCodeDistribution"]), sep="\t")' "$name" \
      >>"$work/times"
  done <"$work/candidates.jsonl"
  echo "round $round of $rounds done" >&2
done

python3 - "$work/times" "$calls" "$rounds" <<'PY'
import sys, statistics
times = {}
for line in open(sys.argv[1]):
    name, ms, codes = line.rstrip("\n").split("\t")
    times.setdefault(name, []).append(float(ms))
print(f"mean latency of CheckPassword, 256 characters, {sys.argv[2]} calls x {sys.argv[3]} rounds, one at a time:")
for name, ms in sorted(times.items(), key=lambda kv: -statistics.median(kv[1])):
    print(f"  {statistics.median(ms):9.1f} ms median of rounds (min {min(ms):.1f}, max {max(ms):.1f})  {name}")
PY
