#!/usr/bin/env bash
# The EvoApprox retraining panel (docs/08-retraining.md), resumable: every finished run is
# recorded under its inputs' digest in OUT/retrain_demo_finished.jsonl, so rerunning this
# script trains only what is missing. Usage: bench/run_panel.sh [SEEDS] [RANGES] [DATA]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-3}"
ranges="${2:-frozen}"
data="${3:-mnist}"
out="bench/results/panel-${ranges}-${data}"
.venv/bin/appmult retrain-demo --panel --kinds ste,lut2d@default,lut1d:separable:2 \
    --ranges "$ranges" --data "$data" --seeds "$seeds" --artifacts artifacts/panel -o "$out" -j 2
