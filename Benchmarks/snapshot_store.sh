#!/usr/bin/env bash
# Snapshot publish and load: S3-compatible store (moto on loopback, signatures checked) vs
# a folder, in one run. Extra arguments go to `firebreak bench snapshot-store`
# (--documents, --dimension, --rounds, --drop-caches).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/python-tools
[ -x .build/release/firebreak ] || swift build -c release
coproc MOTO { exec .venv-tools/bin/python scripts/moto-s3 --port 0 --bucket firebreak-bench; }
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
read -r line <&"${MOTO[0]}"
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$line" "$1"; }
export AWS_ACCESS_KEY_ID=$(field access_key_id) AWS_SECRET_ACCESS_KEY=$(field secret_access_key) AWS_REGION=$(field region)
mkdir -p Benchmarks/results
.build/release/firebreak bench snapshot-store --snapshot-store "s3://$(field bucket)/bench" --s3-endpoint "$(field endpoint)" "$@" \
  | tee Benchmarks/results/snapshot_store.json
