#!/usr/bin/env bash
# The EvoApprox retraining panel (docs/08-retraining.md), resumable: every finished run is
# recorded under its inputs' digest in OUT/retrain_demo_finished.jsonl, so rerunning this
# script trains only what is missing. Usage: bench/run_panel.sh [SEEDS] [RANGES] [DATA] [SET]
# SET is "all" (the 15 8x8 netlists of tests/fixtures/evoapprox, the default) or "subset":
# the six of bench/panel_subset.txt, spanning the NMED range (0.037 % to 2.3 %), for the other
# policies and data.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-3}"
ranges="${2:-frozen}"
data="${3:-mnist}"
set="${4:-all}"
evo=tests/fixtures/evoapprox
case "$set" in
    all) out="bench/results/panel-${ranges}-${data}"; multipliers=() ;;
    subset)
        out="bench/results/panel-${ranges}-${data}-subset"
        multipliers=(--multipliers "$(sed "s|.*|$evo/&.v|" bench/panel_subset.txt | paste -sd,)") ;;
    *) echo "SET must be all or subset, not $set" >&2; exit 2 ;;
esac
.venv/bin/appmult retrain-demo --panel "${multipliers[@]}" --kinds ste,lut2d@default,lut1d:separable:2 \
    --ranges "$ranges" --data "$data" --seeds "$seeds" --artifacts artifacts/panel -o "$out" -j 2
