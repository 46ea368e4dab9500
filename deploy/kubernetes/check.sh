#!/usr/bin/env bash
# Offline validation of the Kubernetes manifests:
#   yamllint (pinned, .yamllint) over every YAML file here;
#   `kustomize build` (pinned) of base and every overlay;
#   each build, and base/secrets.example.yaml, against the Kubernetes
#   OpenAPI schemas bundled in kubernetes-validate (pinned; strict: unknown
#   fields fail), for each version in KUBE_VERSIONS;
#   a few invariants of the app's pods (probes, securityContext).
# Tools go to .tools/ (gitignored). The first run needs the Go module proxy
# and PyPI; later runs reuse .tools/ and need no network at all.
set -uo pipefail

KUSTOMIZE_VERSION=v5.8.2            # v5.8.3 needs go >= 1.27
KUBERNETES_VALIDATE_VERSION=1.37.0  # ships schemas for Kubernetes 1.25-1.37
YAMLLINT_VERSION=1.38.0
KUBE_VERSIONS=${KUBE_VERSIONS:-"1.31 1.34"}

here=$(cd "$(dirname "$0")" && pwd)
tools=$here/.tools
out=$tools/out
cd "$here" || exit 2
start=$(date +%s)
passed=0 failed=0 failures=()

pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); printf 'FAIL  %s\n' "$1"; }

# --- tools (idempotent: reinstalled only when missing or at another version)
mkdir -p "$tools/bin" "$out"
if [ "$("$tools/bin/kustomize" version 2>/dev/null)" != "$KUSTOMIZE_VERSION" ]; then
    echo "installing kustomize $KUSTOMIZE_VERSION into .tools/bin"
    GOBIN=$tools/bin go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" || {
        echo "check.sh: cannot install kustomize" >&2; exit 2; }
fi
pins="kubernetes-validate==$KUBERNETES_VALIDATE_VERSION yamllint==$YAMLLINT_VERSION"
if [ "$(cat "$tools/venv/.pins" 2>/dev/null)" != "$pins" ]; then
    echo "installing $pins into .tools/venv"
    rm -rf "$tools/venv"
    python3 -m venv "$tools/venv" &&
        "$tools/venv/bin/pip" install --quiet --disable-pip-version-check $pins &&
        echo "$pins" > "$tools/venv/.pins" || {
        echo "check.sh: cannot install $pins" >&2; exit 2; }
fi
kustomize=$tools/bin/kustomize
py=$tools/venv/bin/python

# --- yamllint
mapfile -t yamls < <(find . -path ./.tools -prune -o \( -name '*.yaml' -o -name '*.yml' \) -print | sort)
if "$tools/venv/bin/yamllint" --strict -c .yamllint "${yamls[@]}"; then
    pass "yamllint (${#yamls[@]} files)"
else
    fail "yamllint"
fi

# --- kustomize build + schema validation
targets=(base overlays/dev overlays/sentinel examples/ingress-nginx examples/gateway-api)
validate() { # name file
    local v core=$out/core-$(basename "$2")
    # Kubernetes' own kinds here; the Prometheus Operator's, cert-manager's
    # and Gateway API's kinds by kubeconform against their CRDs, below.
    "$py" - "$2" "$core" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
crd_groups = ("monitoring.coreos.com/", "cert-manager.io/", "gateway.networking.k8s.io/")
core = [d for d in docs if not d["apiVersion"].startswith(crd_groups)]
yaml.safe_dump_all(core, open(sys.argv[2], "w"))
PY
    for v in $KUBE_VERSIONS; do
        if "$tools/venv/bin/kubernetes-validate" --strict --quiet -k "$v" "$core"; then
            pass "$1: Kubernetes $v schemas"
        else
            fail "$1: Kubernetes $v schemas"
        fi
    done
}
for t in "${targets[@]}"; do
    f=$out/${t//\//_}.yaml
    if "$kustomize" build "$t" > "$f"; then
        pass "$t: kustomize build ($(grep -c '^kind:' "$f") objects)"
        validate "$t" "$f"
    else
        fail "$t: kustomize build"
    fi
done
validate base/secrets.example.yaml base/secrets.example.yaml

# --- invariants of the app's Deployment, in every build
for t in "${targets[@]}"; do
    f=$out/${t//\//_}.yaml
    [ -s "$f" ] || continue
    if "$py" - "$f" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
dep = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "giropops-senhas")
pod = dep["spec"]["template"]["spec"]
c = pod["containers"][0]
env = {e["name"]: e for e in c["env"]}
errors = []
def want(cond, what):
    if not cond:
        errors.append(what)
for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
    p = c.get(probe, {}).get("grpc")
    want(p and p["port"] == 8081 and p.get("service", "") == "",
         f"{probe}: grpc on 8081, service \"\" (never giropops.v1.History)")
want(env.get("HEALTH_ADDR", {}).get("value") == "0.0.0.0:8081", "HEALTH_ADDR=0.0.0.0:8081")
want("secretKeyRef" in env.get("REDIS_URL", {}).get("valueFrom", {})
     or ("REDIS_SENTINELS" in env and "REDIS_SENTINEL_MASTER" in env and "REDIS_URL" not in env
         and env.get("REDIS_PASSWORD_FILE", {}).get("value", "").startswith("/run/secrets/")),
     "REDIS_URL from a secretKeyRef, or REDIS_SENTINELS + REDIS_SENTINEL_MASTER (no REDIS_URL) with a mounted REDIS_PASSWORD_FILE")
def seconds(name):
    value = env.get(name, {}).get("value", "0s")
    units = {"ms": 0.001, "s": 1, "m": 60}
    for unit in ("ms", "s", "m"):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * units[unit]
    raise ValueError(f"{name}={value}: unsupported duration")
want("lifecycle" not in c, "no preStop hook: the image has no sleep (SHUTDOWN_DELAY instead)")
want(seconds("SHUTDOWN_DELAY") > 0, "SHUTDOWN_DELAY set")
sc = c["securityContext"]
want(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem")
want(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation false")
want(sc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities drop ALL")
want(sc.get("runAsUser") == 65532 and sc.get("runAsNonRoot") is True, "runAsNonRoot, runAsUser 65532")
want(pod["terminationGracePeriodSeconds"] > seconds("SHUTDOWN_DELAY") + seconds("DRAIN_TIMEOUT"),
     "terminationGracePeriodSeconds > SHUTDOWN_DELAY + DRAIN_TIMEOUT")
mounts = [m for m in c["volumeMounts"]]
want(all(m.get("readOnly") and "subPath" not in m for m in mounts), "secret mounts read-only, no subPath")
for e in errors:
    print("  want:", e)
sys.exit(1 if errors else 0)
PY
    then pass "$t: app pod invariants"; else fail "$t: app pod invariants"; fi
done

# --- custom resources: kubeconform (strict) against JSON schemas made from
# the CRDs of pinned releases (Go modules: the module proxy, then the cache)
KUBECONFORM_VERSION=v0.7.0
PROMETHEUS_OPERATOR_VERSION=v0.90.1
CERT_MANAGER_VERSION=v1.19.2
GATEWAY_API_VERSION=v1.6.3
if [ "$(cat "$tools/bin/.kubeconform-version" 2>/dev/null)" != "$KUBECONFORM_VERSION" ]; then
    echo "installing kubeconform $KUBECONFORM_VERSION into .tools/bin"
    GOBIN=$tools/bin go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" || {
        echo "check.sh: cannot install kubeconform" >&2; exit 2; }
    echo "$KUBECONFORM_VERSION" > "$tools/bin/.kubeconform-version"
fi
module_dir() { # module@version
    (cd "$tools" && go mod download -json "$1" | "$py" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
}
schemas=$tools/schemas
pins="$PROMETHEUS_OPERATOR_VERSION $CERT_MANAGER_VERSION $GATEWAY_API_VERSION"
if [ "$(cat "$schemas/.pins" 2>/dev/null)" != "$pins" ]; then
    rm -rf "$schemas" && mkdir -p "$schemas"
    crds=(
        "$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")/example/prometheus-operator-crd"
        "$(module_dir "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION")/deploy/crds"
        "$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")/config/crd/standard"
    )
    "$py" - "$schemas" "${crds[@]}" <<'PY' && echo "$pins" > "$schemas/.pins"
import glob, json, os, sys, yaml
# A bare `=` in the CRDs (an enum value) is YAML 1.1's "value" tag to PyYAML.
yaml.SafeLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
out = sys.argv[1]
def strict(node):
    # openapi2jsonschema's strict form: an object lists all it may hold.
    if isinstance(node, dict):
        if (node.get("type") == "object" and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        for value in node.values():
            strict(value)
    elif isinstance(node, list):
        for value in node:
            strict(value)
count = 0
for folder in sys.argv[2:]:
    for path in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
        for crd in yaml.safe_load_all(open(path)):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"].lower()
            os.makedirs(os.path.join(out, group), exist_ok=True)
            for version in crd["spec"]["versions"]:
                schema = version["schema"]["openAPIV3Schema"]
                strict(schema)
                with open(os.path.join(out, group, f"{kind}_{version['name']}.json"), "w") as f:
                    json.dump(schema, f)
                count += 1
print(f"{count} CRD schemas")
PY
fi
location="$schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
for t in examples/ingress-nginx examples/gateway-api; do
    f=$out/${t//\//_}.yaml
    crs=$out/crs-${t//\//_}.yaml
    "$py" - "$f" "$crs" <<'PY'
import sys, yaml
groups = ("monitoring.coreos.com/", "cert-manager.io/", "gateway.networking.k8s.io/")
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["apiVersion"].startswith(groups)]
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
print(" ".join(sorted({d["kind"] for d in docs})))
PY
    if "$tools/bin/kubeconform" -strict -summary -schema-location "$location" "$crs"; then
        pass "$t: custom resources valid against their CRDs (kubeconform -strict)"
    else
        fail "$t: custom resources against their CRDs"
    fi
done
# And the check can fail: an unknown field in a ServiceMonitor.
"$py" - "$out/crs-examples_ingress-nginx.yaml" "$out/crs-typo.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
monitor = next(d for d in docs if d["kind"] == "ServiceMonitor")
monitor["spec"]["endpoints"][0]["intervall"] = "30s"
yaml.safe_dump(monitor, open(sys.argv[2], "w"))
PY
if ! "$tools/bin/kubeconform" -strict -schema-location "$location" "$out/crs-typo.yaml" >/dev/null 2>&1; then
    pass "kubeconform refuses a ServiceMonitor with an unknown field"
else
    fail "kubeconform took a ServiceMonitor with an unknown field"
fi

# --- monitoring: the rules (promtool check + unit tests), the dashboard
PROMTOOL_VERSION=v0.316.0  # Prometheus 3.16
if [ "$(cat "$tools/bin/.promtool-version" 2>/dev/null)" != "$PROMTOOL_VERSION" ]; then
    echo "installing promtool $PROMTOOL_VERSION into .tools/bin (a few minutes)"
    GOBIN=$tools/bin go install "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION" || {
        echo "check.sh: cannot install promtool" >&2; exit 2; }
    echo "$PROMTOOL_VERSION" > "$tools/bin/.promtool-version"
fi
rules=$out/rules
mkdir -p "$rules"
f=$out/examples_ingress-nginx.yaml
if "$py" - "$f" "$rules/rules.yaml" "$rules/giropops-senhas.json" <<'PY'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
rule = next(d for d in docs if d["kind"] == "PrometheusRule")
yaml.safe_dump(rule["spec"], open(sys.argv[2], "w"))
cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "giropops-senhas-dashboard")
assert cm["metadata"]["labels"]["grafana_dashboard"] == "1", "the dashboard sidecar's label"
dashboard = json.loads(cm["data"]["giropops-senhas.json"])
assert dashboard["panels"] and all(p["targets"] for p in dashboard["panels"])
open(sys.argv[3], "w").write(json.dumps(dashboard))
PY
then pass "examples/ingress-nginx: PrometheusRule and dashboard ConfigMap extracted"; else fail "examples/ingress-nginx: extract"; fi
cp components/monitoring/rules.test.yaml "$rules/"
if "$tools/bin/promtool" check rules "$rules/rules.yaml"; then pass "promtool check rules"; else fail "promtool check rules"; fi
if "$tools/bin/promtool" test rules "$rules/rules.test.yaml"; then
    pass "promtool test rules (every alert fires and stays silent where it should)"
else
    fail "promtool test rules"
fi
# The tests must be able to fail: each rule made never to fire, in turn,
# fails them.
"$py" - "$rules/rules.yaml" "$rules" <<'PY'
import sys, yaml
for i, _ in enumerate(yaml.safe_load(open(sys.argv[1]))["groups"][0]["rules"]):
    spec = yaml.safe_load(open(sys.argv[1]))
    spec["groups"][0]["rules"][i]["expr"] = "vector(1) == 0"
    yaml.safe_dump(spec, open(f"{sys.argv[2]}/broken-{i}.yaml", "w"))
PY
caught=0 missed=()
for broken in "$rules"/broken-*.yaml; do
    sed "s|rules.yaml|$(basename "$broken")|" "$rules/rules.test.yaml" > "$rules/broken.test.yaml"
    if "$tools/bin/promtool" test rules "$rules/broken.test.yaml" >/dev/null 2>&1; then
        missed+=("$(basename "$broken")")
    else
        caught=$((caught + 1))
    fi
done
if [ "${#missed[@]}" -eq 0 ] && [ "$caught" -gt 0 ]; then
    pass "promtool test rules fails for each of the $caught rules made never to fire"
else
    fail "promtool test rules passes with a silenced rule: ${missed[*]}"
fi

echo
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed ($(( $(date +%s) - start ))s; kustomize $KUSTOMIZE_VERSION," \
    "kubernetes-validate $KUBERNETES_VALIDATE_VERSION [$KUBE_VERSIONS], yamllint $YAMLLINT_VERSION, promtool $PROMTOOL_VERSION)"
[ "$failed" -eq 0 ]
