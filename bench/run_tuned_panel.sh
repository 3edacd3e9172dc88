#!/usr/bin/env bash
# LUT-2D at the half-window `appmult tune-hws` chooses, on the EvoApprox panel on MNIST
# (docs/08-retraining.md). Each netlist is characterized into artifacts/panel-tuned-RANGES and
# tuned there with tune-hws's own defaults under the same range policy (the search a user runs:
# 8x8 digits, small network, 2 seeds), its seconds appended to OUT/tune_seconds.csv and its
# record (`appmult info`) kept as OUT/tuning/NAME.txt; then retrain-demo runs STE and
# lut2d@auto. The STE runs and float starts of the untuned panel (bench/run_panel.sh with the
# same RANGES and SET) are copied into OUT first, so they are taken from that record instead of
# trained again and the gains are paired with the same STE runs. Resumable: a tuned artifact
# is not tuned again, and finished runs are recorded.
# Usage: bench/run_tuned_panel.sh [SEEDS] [RANGES] [SET]   (SET: all or subset, as run_panel.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-3}"
ranges="${2:-frozen}"
set="${3:-all}"
evo=tests/fixtures/evoapprox
case "$set" in
    all) suffix=""; netlists=("$evo"/mul8*.v); multipliers=() ;;
    subset)
        suffix="-subset"
        mapfile -t netlists < <(sed "s|.*|$evo/&.v|" bench/panel_subset.txt)
        multipliers=(--multipliers "$(IFS=,; echo "${netlists[*]}")") ;;
    *) echo "SET must be all or subset, not $set" >&2; exit 2 ;;
esac
art="artifacts/panel-tuned-${ranges}"
ste="bench/results/panel-${ranges}-mnist${suffix}"
out="bench/results/panel-${ranges}-mnist-tuned${suffix}"
mkdir -p "$art" "$out/tuning"
[ -f "$out/tune_seconds.csv" ] || echo "multiplier,seconds" > "$out/tune_seconds.csv"
for netlist in "${netlists[@]}"; do
    name=$(basename "$netlist" .v)
    artifact="$art/$name.h5"
    [ -f "$artifact" ] || .venv/bin/appmult characterize "$netlist" -o "$artifact" --quiet
    if ! .venv/bin/appmult info "$artifact" | grep -q '^tuning '; then
        start=$SECONDS
        .venv/bin/appmult tune-hws "$artifact" --ranges "$ranges" -j 2
        echo "$name,$((SECONDS - start))" >> "$out/tune_seconds.csv"
    fi
    .venv/bin/appmult info "$artifact" > "$out/tuning/$name.txt"
done
if [ ! -f "$out/retrain_demo_finished.jsonl" ]; then
    cp "$ste/retrain_demo_finished.jsonl" "$out/"
    cp -r "$ste/float_starts" "$out/"
fi
.venv/bin/appmult retrain-demo --panel "${multipliers[@]}" --kinds ste,lut2d@auto --ranges "$ranges" \
    --data mnist --seeds "$seeds" --artifacts "$art" -o "$out" -j 2
