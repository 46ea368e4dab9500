#!/usr/bin/env bash
# The contract and the generated clients are current:
#   buf lint (STANDARD) · buf format · buf breaking against the released v1
#   baseline · regenerate every client, then `git diff --exit-code`.
#
#   bash clients/check.sh
# After a deliberate, compatible change of the contract, refresh the baseline
# on release: buf build -o proto/giropops/v1/.baseline.binpb
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
BUF_VERSION=1.75.0
buf_dir="$here/.tools/buf"
if [ "$("$buf_dir/node_modules/.bin/buf" --version 2>/dev/null)" != "$BUF_VERSION" ]; then
  npm install --silent --no-audit --no-fund --prefix "$buf_dir" "@bufbuild/buf@$BUF_VERSION"
fi
buf="$buf_dir/node_modules/.bin/buf"
cd "$root"
echo "buf $("$buf" --version): lint"
"$buf" lint
echo "buf format"
"$buf" format -d --exit-code
echo "buf breaking against proto/giropops/v1/.baseline.binpb"
"$buf" breaking --against proto/giropops/v1/.baseline.binpb
echo "regenerating clients"
bash "$here/generate.sh"
if ! git diff --exit-code -- clients/ || [ -n "$(git status --porcelain -- clients/)" ]; then
  git status --short -- clients/
  echo "FAIL: generated clients differ from proto/: run clients/generate.sh and commit"
  exit 1
fi
echo "contract and clients are current"
