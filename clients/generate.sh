#!/usr/bin/env bash
# Generates every client from proto/ with pinned, local tools — nothing is
# fetched from a remote plugin service. The output is committed; CI runs this
# script and then `git diff --exit-code clients/` to prove it is current.
#
#   bash clients/generate.sh
#
# One protoc for all languages: the one inside grpcio-tools (PyPI), with
# protoc-gen-go / protoc-gen-go-grpc (Go module proxy) and ts-proto (npm)
# as plugins.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
tools="$here/.tools"

# Pinned generator versions: the generated headers name them.
GRPCIO_TOOLS_VERSION=1.85.1
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

mkdir -p "$tools/bin"
if [ ! -x "$tools/venv/bin/python" ]; then
  python3 -m venv "$tools/venv"
fi
"$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -c "$here/python/constraints.txt" "grpcio-tools==$GRPCIO_TOOLS_VERSION"
GOBIN="$tools/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
GOBIN="$tools/bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
(cd "$here/typescript" && npm ci --silent --no-audit --no-fund)

protoc=("$tools/venv/bin/python" -m grpc_tools.protoc -I "$root/proto")
protos=(giropops/v1/password_service.proto)
go_pkg=github.com/giropops/giropops-senhas/clients/go/giropopsv1

# Python: messages, typed stubs (.pyi) and gRPC stubs.
py_out="$here/python/src"
rm -rf "$py_out/giropops"
"${protoc[@]}" --python_out="$py_out" --pyi_out="$py_out" --grpc_python_out="$py_out" "${protos[@]}"
touch "$py_out/giropops/__init__.py" "$py_out/giropops/v1/__init__.py" "$py_out/giropops/py.typed"

# Go: the import path is given here, so the proto stays language-neutral.
rm -f "$here/go/giropopsv1/"*.pb.go
"${protoc[@]}" \
  --plugin=protoc-gen-go="$tools/bin/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$tools/bin/protoc-gen-go-grpc" \
  --go_out="$here/go/giropopsv1" --go_opt=paths=source_relative \
  --go_opt="Mgiropops/v1/password_service.proto=$go_pkg" \
  --go-grpc_out="$here/go/giropopsv1" --go-grpc_opt=paths=source_relative \
  --go-grpc_opt="Mgiropops/v1/password_service.proto=$go_pkg" \
  "${protos[@]}"
mv "$here/go/giropopsv1/giropops/v1/"*.pb.go "$here/go/giropopsv1/"
rm -rf "$here/go/giropopsv1/giropops"

# TypeScript: ts-proto with @grpc/grpc-js service clients.
ts_out="$here/typescript/src/gen"
rm -rf "$ts_out"
mkdir -p "$ts_out"
"${protoc[@]}" \
  --plugin=protoc-gen-ts_proto="$here/typescript/node_modules/.bin/protoc-gen-ts_proto" \
  --ts_proto_out="$ts_out" \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=node,useOptionals=messages,oneof=unions,useDate=true \
  "${protos[@]}"

echo "clients generated from proto/"
