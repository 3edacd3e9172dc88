#!/usr/bin/env bash
# LUT-2D at the half-window `appmult tune-hws` chooses, on the 15 EvoApprox 8x8 netlists under
# frozen ranges on MNIST (docs/08-retraining.md). Each netlist is characterized into
# artifacts/panel-tuned and tuned there with tune-hws's own defaults (the search a user runs:
# 8x8 digits, small network, 2 seeds), its seconds appended to OUT/tune_seconds.csv and its
# record (`appmult info`) kept as OUT/tuning/NAME.txt; then
# retrain-demo runs STE and lut2d@auto. The STE runs and float starts of panel-frozen-mnist are
# copied into OUT first, so they are taken from that record instead of trained again and the
# gains are paired with the same STE runs. Resumable: a tuned artifact is not tuned again, and
# finished runs are recorded. Usage: bench/run_tuned_panel.sh [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-3}"
art=artifacts/panel-tuned
out=bench/results/panel-frozen-mnist-tuned
ste=bench/results/panel-frozen-mnist
mkdir -p "$art" "$out/tuning"
[ -f "$out/tune_seconds.csv" ] || echo "multiplier,seconds" > "$out/tune_seconds.csv"
for netlist in tests/fixtures/evoapprox/mul8*.v; do
    name=$(basename "$netlist" .v)
    artifact="$art/$name.h5"
    [ -f "$artifact" ] || .venv/bin/appmult characterize "$netlist" -o "$artifact" --quiet
    if ! .venv/bin/appmult info "$artifact" | grep -q '^tuning '; then
        start=$SECONDS
        .venv/bin/appmult tune-hws "$artifact" -j 2
        echo "$name,$((SECONDS - start))" >> "$out/tune_seconds.csv"
    fi
    .venv/bin/appmult info "$artifact" > "$out/tuning/$name.txt"
done
if [ ! -f "$out/retrain_demo_finished.jsonl" ]; then
    cp "$ste/retrain_demo_finished.jsonl" "$out/"
    cp -r "$ste/float_starts" "$out/"
fi
.venv/bin/appmult retrain-demo --panel --kinds ste,lut2d@auto --ranges frozen --data mnist \
    --seeds "$seeds" --artifacts "$art" -o "$out" -j 2
