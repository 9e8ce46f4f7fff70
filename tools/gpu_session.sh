#!/usr/bin/env bash
# The one prepared script for a session that is lent a GPU (the `device` tool): check the CUDA
# path against the CPU, measure it, then train the two bundled emoji models from scratch with the
# same budget and bundle them into $OUT (G_ema fp16, ~11 MB each, with model cards).
#
#   run(command="bash tools/gpu_session.sh", carry=["runs/data/emoji64.zip"], timeout_s=600)
#
# MINUTES (default 3) is each model's training-time cap; the AdaIN twin stops at the demod
# model's kimg if it gets there first. The whole script must fit one 600 s call: tests and bench
# take about 2 min, bundling about 1. Batch 64 keeps a GPU busy (batch 16 leaves it idle most of
# the time); everything else is the CPU runs' recipe. Everything printed goes to $OUT/session.log, the run
# folders' logs and stats to $OUT/runs.tar.gz: 6 files in all (the tool returns at most 8).
# Afterwards copy $OUT/emoji64-*.safetensors and .md into assets/models/.
set -uo pipefail
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu-out}
MIN=${MINUTES:-3}
DATA=runs/data/emoji64.zip
mkdir -p "$OUT"
exec > >(tee "$OUT/session.log") 2>&1
[ -f "$DATA" ] || { echo "missing $DATA: carry it"; exit 1; }
nvidia-smi --query-gpu=name,memory.total --format=csv

echo "== 1. CUDA path vs CPU, fp16, speed"
python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py 2>&1 | tail -15
python3 -m stylegan2.cli.main bench --config small --device cuda 2>&1 | tail -6
python3 -m training.cli --data "$DATA" --outdir /tmp/bench --cfg small --bench --device cuda \
    2>&1 | tail -8

echo "== 2. the bundled models"
DATASET="Noto Color Emoji (Debian fonts-noto-color-emoji, SIL OFL 1.1), 1287 images, 64 px"
COMMON=(--cfg small --batch 64 --mirror --aug ada --ada-kimg 100 --tick 20 --snap 1000 --workers 6 --no-progress
        --device cuda)
train_and_bundle() {  # name norm kimg
    local name=$1 norm=$2 kimg=$3
    python3 -m training.cli --data "$DATA" --outdir /tmp/runs --norm "$norm" --kimg "$kimg" \
        --max-minutes "$MIN" "${COMMON[@]}" 2>&1 | tail -4
    local snap
    snap=$(ls /tmp/runs/*-"$norm"/network-snapshot-*.safetensors 2>/dev/null | tail -1)
    [ -n "$snap" ] || { echo "no $norm snapshot"; return 1; }
    python3 -m stylegan2.cli.main bundle "$snap" --out "$OUT/emoji64-$name.safetensors" \
        --title "Emoji 64 px, $name (GPU)" --dataset "$DATASET" --device cuda \
        --command "stylegan2 dataset --emoji-font /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf --dest emoji64.zip --resolution 64" \
        --command "stylegan2-train --data emoji64.zip --outdir runs --norm $norm --kimg $kimg --max-minutes $MIN ${COMMON[*]}" \
        2>&1 | tail -2
    echo "$snap"
}
demod=$(train_and_bundle stylegan2 demod 100000 | tee /dev/stderr | tail -1)
[ -f "$demod" ] || exit 1
kimg=$(python3 -c "
from stylegan2.checkpoints import load_checkpoint
print(load_checkpoint('$demod').metadata['extra']['counters']['cur_nimg'] / 1000)")
echo "demod reached $kimg kimg; the AdaIN twin trains to the same"
train_and_bundle adain adain "$kimg"
tar czf "$OUT/runs.tar.gz" --exclude='*.safetensors' -C /tmp runs
ls -la "$OUT"
