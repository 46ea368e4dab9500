#!/usr/bin/env bash
# Container test: the Dockerfile's builder stage from exactly its build
# context, the real Dockerfile's runtime stage, the hardened run, and
# docker-compose.yml — with podman, offline.
#
#   bash tests/container/run.sh      (as root; .ci/run installs what it needs)
#
# 1. replays the Dockerfile's builder stage on the host from exactly the files
#    a docker build gives it (its COPY lines and .dockerignore, rebuilt in an
#    empty directory by builder_context.py) and its own build command
#    (cargo auditable, musl, release; offline, reusing target/): a file the
#    context or the COPY lines leave out fails here, as it would in docker;
#    checks the context leaves out what the image does not need;
# 2. builds the image from ./Dockerfile, the builder stage swapped for what
#    step 1 produced (--build-context builder=DIR), and checks its contents,
#    size, labels (version from Cargo.toml, architecture), user, environment
#    and health check, and that its binary is static, stripped and carries
#    its audit data; writes the CycloneDX SBOM;
# 3. runs it read-only, without capabilities, as 65532, against a host
#    redis-server; calls it over gRPC from the host; checks `healthcheck`;
#    checks `podman stop` gives a clean exit 0 within 2 s;
# 4. validates docker-compose.yml (hardening, limits, secrets in the read-only
#    volume only); runs its init-secrets service (twice: idempotent); runs
#    compose's own Redis command on the host with the generated ACL file (the
#    default user off); runs the app service with podman-compose and compose's
#    environment (the ACL user and REDIS_PASSWORD_FILE, TLS, tokens, history
#    keys); runs README's compose commands (CA and token copied out of the
#    volume, grpcurl, the CLI) and calls it over TLS: generated and stored,
#    listed, UNAUTHENTICATED without a valid token, its health check healthy;
#    checks Redis saw no denied command and holds no password in plaintext
#    (keys, values, append-only file), and that the app's Redis user can do
#    nothing else.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CONTAINERS_CONF="$root/tests/container/containers.conf"
IMAGE=localhost/giropops-senhas:test
# A guard against growth, not a spec: 9.5 MiB before the HTTP protocols,
# the web page and the JSON codec joined the binary; 10.4 MiB after.
MAX_IMAGE_BYTES=$((11 * 1024 * 1024))
case "$(uname -m)" in
  x86_64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "unsupported machine $(uname -m): the image is built for amd64 and arm64" >&2; exit 1 ;;
esac
# The version the image is labelled with: Cargo.toml's, as CI passes it.
VERSION=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "giropops-senhas"))')
work=$(mktemp -d)
pass=0
fail=0

ok() { echo "ok   - $*"; pass=$((pass + 1)); }
not_ok() { echo "FAIL - $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

redis_pid=
registry_pid=
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  podman rm -f -t 0 giropops-ct >/dev/null 2>&1 || true
  podman rm -f -t 0 giropops-senhas_app_1 giropops-senhas_init-secrets_1 >/dev/null 2>&1 || true
  podman volume rm -f giropops-senhas_secrets >/dev/null 2>&1 || true
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "# 1. the builder stage, from exactly its build context"
check "the .dockerignore matcher agrees with docker's own cases" \
  python3 tests/container/builder_context.py --self-test
python3 tests/container/builder_context.py --list-context > "$work/context"
echo "build context: $(wc -l < "$work/context") files"
check "the build context holds no other clients, tests, docs, deploy files or build output" \
  bash -c "! grep -E '^(clients/(go|python|typescript)|tests|docs|deploy|target|\.git)/|(^|/)target/' '$work/context'"
check "of benches/, the build context holds only the bench sources" \
  bash -c "! grep '^benches/' '$work/context' | grep -qv '\.rs\$'"
check "the builder stage refuses an architecture it has no target for, clearly" bash -c \
  "python3 tests/container/builder_context.py --build-arg TARGETARCH=riscv64 2>&1 | grep -qF \"unsupported TARGETARCH 'riscv64'\""
# The builder stage builds offline here: every crate Cargo.lock names, first.
cargo fetch --locked --quiet
if python3 tests/container/builder_context.py --export "$work/builder"; then
  ok "the builder stage builds from its own context (its COPY lines, .dockerignore, its build command)"
else
  not_ok "the builder stage builds from its own context (its COPY lines, .dockerignore, its build command)"
  echo "# container test: $pass passed, $fail failed (nothing to build an image from)"
  exit 1
fi

echo "# 2. image from the real Dockerfile"
podman build --quiet --format docker --build-context builder="$work/builder" \
  --platform "linux/$ARCH" --build-arg VERSION="$VERSION" -t "$IMAGE" . >/dev/null
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
echo "image size: $size bytes ($((size / 1024)) KiB)"
check "image under 11 MiB" test "$size" -lt "$MAX_IMAGE_BYTES"
check "runs as 65532:65532" test "$(podman image inspect "$IMAGE" --format '{{.Config.User}}')" = "65532:65532"
check "exec-form HEALTHCHECK calls healthcheck" bash -c \
  "podman image inspect '$IMAGE' --format '{{json .HealthCheck.Test}}' | grep -qF '[\"CMD\",\"/giropops-senhas\",\"healthcheck\"]'"
check "exec-form ENTRYPOINT" test "$(podman image inspect "$IMAGE" --format '{{json .Config.Entrypoint}}')" = '["/giropops-senhas"]'
check "metrics served on the pod address (ENV METRICS_ADDR=0.0.0.0:9090)" bash -c \
  "podman image inspect '$IMAGE' --format '{{json .Config.Env}}' | grep -qF '\"METRICS_ADDR=0.0.0.0:9090\"'"
label() { podman image inspect "$IMAGE" --format "{{index .Labels \"$1\"}}"; }
check "OCI labels" test -n "$(label org.opencontainers.image.source)"
echo "version label: $(label org.opencontainers.image.version) (Cargo.toml: $VERSION)"
check "version label is Cargo.toml's version" test "$(label org.opencontainers.image.version)" = "$VERSION"
check "architecture label and image architecture are $ARCH" test \
  "$(label io.github.giropops.senhas.architecture) $(podman image inspect "$IMAGE" --format '{{.Architecture}}')" = "$ARCH $ARCH"
check "the Dockerfile has no version of its own (no ARG VERSION default)" bash -c "! grep -qE '^[[:space:]]*ARG[[:space:]]+VERSION=' Dockerfile"
podman save --format docker-archive -o "$work/image.tar" "$IMAGE" >/dev/null
mkdir -p "$work/image" "$work/rootfs"
tar -xf "$work/image.tar" -C "$work/image"
for layer in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$work/image/manifest.json"); do
  tar -xf "$work/image/$layer" -C "$work/rootfs"
done
files=$(cd "$work/rootfs" && find . ! -type d | sed 's|^\./||' | sort)
echo "files in the image: $files"
check "the binary is the only file" test "$files" = "giropops-senhas"
# From here on the host calls the server with the image's own binary.
bin="$work/rootfs/giropops-senhas"
check "binary is statically linked" bash -c "ldd '$bin' 2>&1 | grep -qE 'not a dynamic executable|statically linked'"
check "binary carries cargo-auditable data (.dep-v0)" bash -c "readelf -S '$bin' | grep -q '\.dep-v0'"
check "binary is stripped" bash -c "! readelf -S '$bin' | grep -q '\.debug_info'"
# One SBOM per workspace package, each written beside its Cargo.toml.
mkdir -p target/sbom
cargo cyclonedx --format json >/dev/null
cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,os,sys; [print(os.path.join(os.path.dirname(p["manifest_path"]), p["name"] + ".cdx.json")) for p in json.load(sys.stdin)["packages"]]' |
  while read -r sbom; do mv "$sbom" target/sbom/; done
check "CycloneDX SBOM lists dependencies" python3 - target/sbom/giropops-senhas.cdx.json <<'PY'
import json, sys
sbom = json.load(open(sys.argv[1]))
names = {c["name"] for c in sbom.get("components", [])}
sys.exit(0 if sbom["bomFormat"] == "CycloneDX" and {"tonic", "rand", "redis"} <= names else 1)
PY

echo "# 3. hardened run against a host redis"
redis_port=$(free_port)
app_port=$(free_port)
metrics_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
podman run -d --name giropops-ct --network host \
  --read-only --cap-drop ALL --security-opt no-new-privileges --user 65532:65532 \
  -e REDIS_URL="redis://127.0.0.1:$redis_port" -e LISTEN_ADDR="127.0.0.1:$app_port" \
  -e ANONYMOUS_SCOPES=all -e HISTORY_KEYS_FILE=ephemeral \
  -e METRICS_ADDR="127.0.0.1:$metrics_port" \
  "$IMAGE" >/dev/null 2>"$work/podman-run.err" # (no systemd here: podman warns it cannot schedule health timers)
addr="http://127.0.0.1:$app_port"
for _ in $(seq 100); do "$bin" healthcheck --addr "$addr" >/dev/null 2>&1 && break; sleep 0.1; done
check "healthcheck from the host says SERVING" bash -c "'$bin' healthcheck --addr '$addr' | grep -qx SERVING"
check "healthcheck inside the container (as the image's HEALTHCHECK runs it)" \
  podman exec giropops-ct /giropops-senhas healthcheck --addr "$addr"
password=$("$bin" generate --addr "$addr" --length 24 --numbers --special)
check "podman runs the image's HEALTHCHECK: healthy" podman healthcheck run giropops-ct
check "GeneratePassword over gRPC from the host" test "${#password}" -eq 24
# The password holds any punctuation (quotes included): compare it as data,
# never interpolated into a command line. In JSON logs it would appear escaped.
password_json=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1])[1:-1])' "$password")
password_in_redis_encrypted() {
  local entry
  entry=$(redis-cli -p "$redis_port" lrange '{giropops-senhas:history}:anonymous' 0 0) &&
    [ "${entry#g1:}" != "$entry" ] &&
    python3 -c 'import sys; sys.exit(1 if sys.argv[2] in sys.argv[1] else 0)' "$entry" "$password"
}
password_listed() { "$bin" list --addr "$addr" --json |
  python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["passwords"][0]["password"] == sys.argv[1] else 1)' "$password"; }
metrics_count_without_secret() {
  python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
    "http://127.0.0.1:$metrics_port/metrics" > "$work/metrics" &&
    grep -q '^giropops_secrets_generated_total{kind="password"} 1' "$work/metrics" &&
    grep -q '^giropops_redis_up 1' "$work/metrics" &&
    ! grep -qF -- "$password" "$work/metrics"
}
logs_json_without_secret() {
  podman logs giropops-ct > "$work/logs" 2>&1 &&
    grep -q '^{' "$work/logs" && ! grep -qF -e "$password" -e "$password_json" "$work/logs"
}
check "the password is in redis, encrypted (no plaintext)" password_in_redis_encrypted
check "ListPasswords over gRPC from the host" password_listed
check "Prometheus metrics count the generated password, without it" metrics_count_without_secret
check "logs are JSON and hold no password" logs_json_without_secret
check "read-only root filesystem" test "$(podman inspect giropops-ct --format '{{.HostConfig.ReadonlyRootfs}}')" = true
check "no capabilities" bash -c "podman inspect giropops-ct --format '{{json .EffectiveCaps}}' | grep -qE '^(null|\[\])$'"
started=$(date +%s%N)
podman stop -t 10 giropops-ct >/dev/null 2>&1
took_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "podman stop took ${took_ms} ms"
check "SIGTERM exit code is 0" test "$(podman inspect giropops-ct --format '{{.State.ExitCode}}')" = 0
check "stopped within 2 s" test "$took_ms" -lt 2000
podman rm -f giropops-ct >/dev/null 2>&1
kill "$redis_pid" 2>/dev/null || true
wait "$redis_pid" 2>/dev/null || true
redis_pid=

echo "# 4. docker-compose.yml"
# Compose's Redis, on the host (below): a fresh one, on its own port.
export TEST_REDIS_PORT=$(free_port) TEST_APP_PORT=$(free_port)
compose=(podman-compose -f docker-compose.yml -f tests/container/compose.override.yml)
check "podman-compose validates docker-compose.yml" bash -c "podman-compose -f docker-compose.yml config >/dev/null"
check "compose: hardening, limits, secrets only in the read-only volume, gRPC on 127.0.0.1, metrics unpublished" python3 - <<'PY'
import re, subprocess, sys, yaml
cfg = yaml.safe_load(subprocess.run(["podman-compose", "-f", "docker-compose.yml", "config"], capture_output=True, check=True, text=True).stdout)
services = cfg["services"]
app, redis, init = services["app"], services["redis"], services["init-secrets"]
env = app["environment"]
failed = []
def need(what, ok):
    if not ok:
        failed.append(what)
need("read_only, cap_drop ALL, no-new-privileges everywhere", all(
    s.get("read_only") and s.get("cap_drop") == ["ALL"]
    and "no-new-privileges:true" in s.get("security_opt", []) for s in (app, redis, init)))
need("init-secrets may only chown", init.get("cap_add", []) == ["CHOWN"])
need("init-secrets runs init-secrets --dir /run/secrets",
     init["command"][:3] == ["init-secrets", "--dir", "/run/secrets"])
need("init-secrets has no network", init.get("network_mode") == "none")
need("init-secrets writes the secrets volume", "secrets:/run/secrets" in init["volumes"])
need("app and redis mount it read-only", all("secrets:/run/secrets:ro" in s["volumes"] for s in (app, redis)))
need("named volumes", {"redis-data", "secrets"} <= set(cfg.get("volumes", {})))
need("app waits for init-secrets and a healthy redis",
     app["depends_on"]["redis"]["condition"] == "service_healthy"
     and app["depends_on"]["init-secrets"]["condition"] == "service_completed_successfully")
need("redis waits for init-secrets",
     redis["depends_on"]["init-secrets"]["condition"] == "service_completed_successfully")
need("healthchecks", all("healthcheck" in s for s in (app, redis)))
need("gRPC published on 127.0.0.1 only, metrics not at all",
     [str(p) for p in app["ports"]] == ["127.0.0.1:50051:50051"] and "ports" not in redis)
need("redis: ACL file from the volume, append-only",
     "--aclfile" in redis["command"] and "/run/secrets/redis-users.acl" in redis["command"]
     and "--appendonly" in redis["command"] and any(str(v).startswith("redis-data:") for v in redis["volumes"]))
need("the app reads every secret from /run/secrets", all(
    str(env.get(k, "")).startswith("/run/secrets/")
    for k in ("REDIS_PASSWORD_FILE", "TLS_CERT_FILE", "TLS_KEY_FILE", "AUTH_TOKENS_FILE", "HISTORY_KEYS_FILE")))
need("no password in REDIS_URL", not re.match(r"^rediss?://[^@/]*:[^@/]*@", env["REDIS_URL"]))
for name, s in services.items():
    for key, value in (s.get("environment") or {}).items():
        need(f"{name}: {key} holds no secret", key.endswith("_FILE")
             or not re.search("PASSWORD|TOKEN|SECRET|CREDENTIAL", key) and "gps_" not in str(value))
need("mem, pids and nofile limits on app and redis", all(
    s.get("mem_limit") and s.get("pids_limit") and s.get("ulimits", {}).get("nofile") for s in (app, redis)))
need("redis image pinned", ":" in redis["image"] and not redis["image"].endswith(":latest"))
need("restart policies", all(s.get("restart") for s in (app, redis)))
for what in failed:
    print("compose:", what, file=sys.stderr)
sys.exit(1 if failed else 0)
PY
podman volume rm -f giropops-senhas_secrets >/dev/null 2>&1 || true
init_secrets() {
  "${compose[@]}" up --no-build --no-deps init-secrets >"$work/init-secrets.log" 2>&1 &&
    test "$(podman inspect giropops-senhas_init-secrets_1 --format '{{.State.ExitCode}}')" = 0
}
check "compose init-secrets writes the secrets volume" init_secrets
secrets_dir=$(podman volume inspect giropops-senhas_secrets --format '{{.Mountpoint}}')
token_before=$(cat "$secrets_dir/token" 2>/dev/null || true)
secret_files_private() {
  local expected='ca.pem 640 65532:1000
history-keys 600 65532:1000
redis-password 600 65532:1000
redis-users.acl 640 65532:1000
server-key.pem 600 65532:1000
server.pem 640 65532:1000
token 600 65532:1000
tokens 640 65532:1000'
  test "$(cd "$secrets_dir" && stat -c '%n %a %u:%g' -- * | sort)" = "$expected"
}
check "the secrets: 0600/0640, the app's user, redis's group" secret_files_private
init_secrets_again_keeps_them() {
  init_secrets && grep -q 'already there, kept' "$work/init-secrets.log" &&
    test -n "$token_before" && test "$(cat "$secrets_dir/token")" = "$token_before"
}
check "compose init-secrets again keeps every file" init_secrets_again_keeps_them
# Redis as compose runs it — its own command and the generated ACL file —
# on the host. To look inside it, the test appends one user of its own
# (ct-admin) to a copy of the file; the generated lines are kept as they are.
grpcurl_version=$(sed -n 's/^GRPCURL_VERSION=//p' clients/test.sh) # the version clients/test.sh pins
GOBIN="$root/clients/.tools/bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$grpcurl_version" ||
  echo "could not install grpcurl $grpcurl_version: its checks fail below"
grpcurl="$root/clients/.tools/bin/grpcurl"
mkdir -p "$work/redis-secrets" "$work/redis-data"
python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > "$work/admin-password"
{ cat "$secrets_dir/redis-users.acl"; echo "user ct-admin on >$(cat "$work/admin-password") ~* &* +@all"; } \
  > "$work/redis-secrets/redis-users.acl"
mapfile -t redis_command < <(python3 - "$work/redis-secrets" <<'PY'
import subprocess, sys, yaml
cfg = yaml.safe_load(subprocess.run(["podman-compose", "-f", "docker-compose.yml", "config"], capture_output=True, check=True, text=True).stdout)
for arg in cfg["services"]["redis"]["command"]:
    print(str(arg).replace("/run/secrets", sys.argv[1]))
PY
)
echo "compose's Redis, on the host: ${redis_command[*]}"
"${redis_command[@]}" --port "$TEST_REDIS_PORT" --bind 127.0.0.1 --dir "$work/redis-data" \
  --logfile "$work/redis-acl.log" &
redis_pid=$!
probe() { python3 tests/container/redis_probe.py "$TEST_REDIS_PORT" ct-admin "$work/admin-password" "$@"; }
for _ in $(seq 50); do probe ping 2>/dev/null && break; sleep 0.1; done
check "compose's Redis command runs with the generated ACL file" probe ping
check "Redis: the default user is off (an unauthenticated PING answers NOAUTH)" probe default-off
"${compose[@]}" up -d --no-build --no-deps app >/dev/null 2>&1
compose_addr="https://localhost:$TEST_APP_PORT"
# The README's way to call the service: the CA and the token out of the volume.
podman cp giropops-senhas_app_1:/run/secrets/ca.pem "$work/ca.pem" >/dev/null 2>&1 || true
podman cp giropops-senhas_app_1:/run/secrets/token "$work/token" >/dev/null 2>&1 || true
tls=(--addr "$compose_addr" --ca-file "$work/ca.pem")
for _ in $(seq 100); do "$bin" healthcheck "${tls[@]}" >/dev/null 2>&1 && break; sleep 0.1; done
check "the CA and the token copy out of the app container (podman cp)" test -s "$work/ca.pem" -a -s "$work/token"
compose_environment() {
  podman inspect giropops-senhas_app_1 --format '{{json .Config.Env}}' | python3 -c '
import json, sys
env = dict(v.split("=", 1) for v in json.load(sys.stdin))
want = {"REDIS_URL": "redis://giropops-senhas@127.0.0.1:" + sys.argv[1],
        "REDIS_PASSWORD_FILE": "/run/secrets/redis-password",
        "TLS_CERT_FILE": "/run/secrets/server.pem", "TLS_KEY_FILE": "/run/secrets/server-key.pem",
        "AUTH_TOKENS_FILE": "/run/secrets/tokens", "HISTORY_KEYS_FILE": "/run/secrets/history-keys"}
wrong = {k: env.get(k) for k, v in want.items() if env.get(k) != v}
print("environment differs:", wrong, file=sys.stderr) if wrong else None
sys.exit(1 if wrong else 0)' "$TEST_REDIS_PORT"
}
check "compose app service runs with compose's environment (ACL user, REDIS_PASSWORD_FILE, TLS, tokens, keys)" compose_environment
check "compose app service is SERVING over TLS" "$bin" healthcheck "${tls[@]}"
check "compose app service refuses plaintext" bash -c "! '$bin' healthcheck --addr 'http://127.0.0.1:$TEST_APP_PORT' >/dev/null 2>&1"
check "compose app service's own health check (HEALTHCHECK_ADDR, TLS)" \
  podman exec giropops-senhas_app_1 /giropops-senhas healthcheck --ca-file /run/secrets/ca.pem
compose_health_check_healthy() {
  podman inspect giropops-senhas_app_1 --format '{{json .Config.Healthcheck.Test}}' |
    grep -qF '"healthcheck","--ca-file","/run/secrets/ca.pem"' &&
    podman healthcheck run giropops-senhas_app_1
}
check "podman runs compose's health check (over TLS, the volume's CA): healthy" compose_health_check_healthy
# Every password the service returns is kept (JSON list) to look for in Redis.
echo '[]' > "$work/passwords.json"
keep_passwords() { # file with the service's JSON output
  python3 - "$1" "$work/passwords.json" <<'PY'
import json, sys
text, found = open(sys.argv[1]).read(), []
decoder, i = json.JSONDecoder(), 0
def walk(value, key=None):
    if isinstance(value, str) and key in ("password", "passwords"):
        found.append(value)
    elif isinstance(value, dict):
        for name, item in value.items():
            walk(item, name)
    elif isinstance(value, list):
        for item in value:
            walk(item, key)
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    doc, i = decoder.raw_decode(text, i)
    walk(doc)
kept = json.load(open(sys.argv[2]))
json.dump(kept + found, open(sys.argv[2], "w"))
PY
}
generated_and_stored() {
  "$bin" generate "${tls[@]}" --token-file "$work/token" --json > "$work/generated.json" &&
    keep_passwords "$work/generated.json" &&
    python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["stored"] else 1)' "$work/generated.json"
}
check "compose app service generates for the token, stored" generated_and_stored
listed_with_principal() {
  "$bin" list "${tls[@]}" --token-file "$work/token" --json > "$work/listed.json" &&
    keep_passwords "$work/listed.json" &&
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["passwords"]; sys.exit(0 if r and r[0]["principal"] == "operator" else 1)' "$work/listed.json"
}
check "compose app service lists the token's history, its principal named" listed_with_principal
check "compose app service refuses the history to anonymous callers" bash -c \
  "! '$bin' list ${tls[*]} >/dev/null 2>&1"
# README's "Run it" commands, as written, from a directory of their own:
# `docker compose cp` as podman's (podman-compose has no cp), the port the
# test's, grpcurl the pinned one, giropops-senhas the image's binary.
readme_compose_commands() {
  local line n=0
  mkdir -p "$work/readme"
  python3 - docs/OPERATIONS.md > "$work/readme/commands" <<'PY' || return 1
import re, sys
text = open(sys.argv[1]).read()
block = next(b for b in re.findall(r"```sh\n(.*?)```", text, re.S) if "docker compose cp app:" in b)
print(block.replace("\\\n", " "), end="")
PY
  while IFS= read -r line; do
    n=$((n + 1))
    line=${line//docker compose cp app:/podman cp giropops-senhas_app_1:}
    line=${line//localhost:50051/localhost:$TEST_APP_PORT}
    line=${line/#grpcurl /\"\$grpcurl\" }
    line=${line/#giropops-senhas /\"\$bin\" }
    echo "\$ $line"
    (cd "$work/readme" && eval "$line") > "$work/readme/out.$n" 2>&1 || { cat "$work/readme/out.$n"; return 1; }
    keep_passwords "$work/readme/out.$n" 2>/dev/null || true
  done < "$work/readme/commands"
  grep -q '"stored": true' "$work/readme/out."* &&
    grep -q 'giropops.v1.PasswordService' "$work/readme/out."*
}
check "README's compose commands run as written (CA and token copied out, grpcurl and the CLI over TLS, stored)" \
  readme_compose_commands
# From the proto files: without a token, reflection itself is refused.
grpcurl_list() { # grpcurl arguments (besides the CA and the proto)
  "$grpcurl" -cacert "$work/ca.pem" -import-path "$root/proto" -proto giropops/v1/password_service.proto \
    "$@" "localhost:$TEST_APP_PORT" giropops.v1.PasswordService/ListPasswords
}
unauthenticated() { # grpcurl arguments
  ! grpcurl_list "$@" > "$work/unauthenticated.out" 2>&1 &&
    grep -q 'Code: Unauthenticated' "$work/unauthenticated.out" ||
    { cat "$work/unauthenticated.out"; return 1; }
}
without_token_unauthenticated() {
  grpcurl_list -H "authorization: Bearer $(cat "$work/token")" >/dev/null && unauthenticated
}
check "grpcurl: ListPasswords without a token is UNAUTHENTICATED (with the token: listed)" without_token_unauthenticated
anonymous_generates_unstored() {
  "$grpcurl" -cacert "$work/ca.pem" -import-path "$root/proto" -proto giropops/v1/password_service.proto \
    -d '{}' "localhost:$TEST_APP_PORT" giropops.v1.PasswordService/GeneratePassword > "$work/anonymous.json" &&
    keep_passwords "$work/anonymous.json" &&
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["password"] and not r.get("stored") else 1)' "$work/anonymous.json"
}
check "grpcurl: an anonymous GeneratePassword (README's, from the proto file) is generated, not stored" \
  anonymous_generates_unstored
check "grpcurl: ListPasswords with an unknown token is UNAUTHENTICATED" \
  unauthenticated -H "authorization: Bearer gps_$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
check "the app is connected to Redis as its ACL user, and only it" probe clients giropops-senhas
check "Redis's ACL LOG: no command of the app's was denied" probe acl-log giropops-senhas
check "Redis holds no returned password in plaintext (keys, values, append-only files)" \
  probe plaintext "$work/passwords.json" "$work/redis-data"
check "the app's Redis user reaches nothing but the history, with the app's commands (NOPERM)" \
  python3 tests/container/redis_probe.py "$TEST_REDIS_PORT" giropops-senhas "$secrets_dir/redis-password" confined
"${compose[@]}" down -v -t 10 >/dev/null 2>&1 || true
podman volume rm -f giropops-senhas_secrets >/dev/null 2>&1 || true

echo "# 5. signed and attested as the release workflow does, offline: a generated key pair, a local registry"
# The release signs keyless (GitHub's OIDC, Sigstore); what runs here is the
# same cosign commands with a key, against go-containerregistry's registry.
COSIGN_VERSION=v2.6.1
GGCR_VERSION=v0.22.1
tools="$root/tests/container/.tools/bin"
mkdir -p "$tools"
install_go_tool() { # binary module version
  [ "$(cat "$tools/.$1-version" 2>/dev/null)" = "$3" ] && return 0
  echo "installing $1 $3 (go install)"
  GOBIN=$tools go install "$2@$3" && echo "$3" > "$tools/.$1-version"
}
install_go_tool registry github.com/google/go-containerregistry/cmd/registry "$GGCR_VERSION" ||
  echo "could not install registry: the checks below fail"
install_go_tool cosign github.com/sigstore/cosign/v2/cmd/cosign "$COSIGN_VERSION" ||
  echo "could not install cosign: the checks below fail"
registry_port=$(free_port)
"$tools/registry" -port "$registry_port" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$registry_port/v2/" >/dev/null && break; sleep 0.1; done
repo=localhost:$registry_port/giropops-senhas
export COSIGN_PASSWORD=ci-only-key-password
cosign=("$tools/cosign")
offline=(--allow-http-registry)
push_image() { # image tag
  podman push --quiet --tls-verify=false --digestfile "$work/digest" "$1" "$repo:$2" >/dev/null &&
    echo "$repo@$(cat "$work/digest")"
}
ref=$(push_image "$IMAGE" test || true)
echo "pushed: $ref"
signed_and_verified() {
  (cd "$work" && "${cosign[@]}" generate-key-pair >/dev/null 2>&1) &&
    "${cosign[@]}" sign --yes --key "$work/cosign.key" --tlog-upload=false "${offline[@]}" "$ref" &&
    "${cosign[@]}" verify --key "$work/cosign.pub" --insecure-ignore-tlog=true "${offline[@]}" "$ref" > "$work/verified.json"
}
check "cosign signs the pushed image by digest, and verifies it with the public key" signed_and_verified
sbom_attested() {
  "${cosign[@]}" attest --yes --key "$work/cosign.key" --tlog-upload=false "${offline[@]}" \
    --type cyclonedx --predicate target/sbom/giropops-senhas.cdx.json "$ref" &&
    "${cosign[@]}" verify-attestation --key "$work/cosign.pub" --insecure-ignore-tlog=true "${offline[@]}" \
      --type cyclonedx "$ref" > "$work/attestation.json" &&
    python3 - "$work/attestation.json" <<'PY'
import base64, json, sys
statement = json.loads(base64.b64decode(json.loads(open(sys.argv[1]).readline())["payload"]))
assert statement["predicateType"] == "https://cyclonedx.org/bom", statement["predicateType"]
names = {c["name"] for c in statement["predicate"].get("components", [])}
assert {"tonic", "prost", "rand"} <= names, sorted(names)[:20]
PY
}
check "cosign attests the CycloneDX SBOM; verify-attestation --type cyclonedx reads it back" sbom_attested
other_key_refused() {
  mkdir -p "$work/other" && (cd "$work/other" && "${cosign[@]}" generate-key-pair >/dev/null 2>&1) &&
    ! "${cosign[@]}" verify --key "$work/other/cosign.pub" --insecure-ignore-tlog=true "${offline[@]}" "$ref" >/dev/null 2>&1
}
check "cosign verify refuses the image with another key" other_key_refused
moved_tag_refused() {
  printf 'FROM %s\nLABEL moved=yes\n' "$IMAGE" > "$work/Containerfile.moved" &&
    podman build --quiet --format docker -f "$work/Containerfile.moved" -t localhost/giropops-senhas:moved "$work" >/dev/null &&
    push_image localhost/giropops-senhas:moved test >/dev/null &&
    ! "${cosign[@]}" verify --key "$work/cosign.pub" --insecure-ignore-tlog=true "${offline[@]}" "$repo:test" >/dev/null 2>&1 &&
    "${cosign[@]}" verify --key "$work/cosign.pub" --insecure-ignore-tlog=true "${offline[@]}" "$ref" >/dev/null 2>&1
}
check "a different image pushed under the same tag is not signed (the digest still is)" moved_tag_refused
podman rmi -f localhost/giropops-senhas:moved >/dev/null 2>&1 || true

echo "# container test: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
