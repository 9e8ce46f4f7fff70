#!/usr/bin/env bash
# The one prepared script for a session that is lent a GPU (the `device` tool): check the CUDA
# path against the CPU, measure it, then train the two bundled emoji models from scratch with the
# same budget and bundle them into $OUT (G_ema fp16, ~11 MB each, with model cards).
#
#   run(command="bash tools/gpu_session.sh", carry=["runs/data/emoji64.zip"], timeout_s=600)
#
# MINUTES (default 3.5) is the demod model's training time; the AdaIN twin then trains for the
# same kimg. Copy $OUT/emoji64-*.safetensors and .md into assets/models/ afterwards.
set -uo pipefail
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu-out}
MIN=${MINUTES:-3.5}
DATA=runs/data/emoji64.zip
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"

# 1. correctness vs CPU and fp16 (tests/test_gpu.py), then speed
python3 -m pytest -q -p no:cacheprovider -p no:pytestqt tests/test_gpu.py 2>&1 | tail -15 \
    | tee "$OUT/gpu-tests.txt"
for cfg in small stylegan2; do
    python3 -m stylegan2.cli.main bench --config "$cfg" --device cuda 2>&1 | tail -8
done | tee "$OUT/bench.txt"
python3 -m training.cli --data "$DATA" --outdir /tmp/bench --cfg small --bench --device cuda \
    2>&1 | tail -8 | tee -a "$OUT/bench.txt"

# 2. the bundled models: demod for MIN minutes, the AdaIN twin for the same kimg
train() {
    python3 -m training.cli --data "$DATA" --outdir /tmp/runs --cfg small --mirror --aug ada \
        --tick 20 --snap 1000 --workers 6 --no-progress --device cuda "$@" 2>&1 | tail -5
}
train --norm demod --kimg 100000 --max-minutes "$MIN" | tee "$OUT/train-demod.txt"
demod_snap=$(ls /tmp/runs/*demod*/network-snapshot-*.safetensors | tail -1)
kimg=$(python3 -c "
from stylegan2.checkpoints import load_checkpoint
print(load_checkpoint('$demod_snap').metadata['extra']['counters']['cur_nimg'] / 1000)")
train --norm adain --kimg "$kimg" | tee "$OUT/train-adain.txt"
adain_snap=$(ls /tmp/runs/*adain*/network-snapshot-*.safetensors | tail -1)
for pair in "stylegan2:$demod_snap" "adain:$adain_snap"; do
    name=${pair%%:*}
    python3 -m stylegan2.cli.main bundle "${pair#*:}" --out "$OUT/emoji64-$name.safetensors" \
        --title "Emoji 64 px, $name (GPU)" \
        --dataset "Noto Color Emoji (Debian fonts-noto-color-emoji, SIL OFL 1.1), 1287 images" \
        --command "stylegan2 dataset --emoji-font /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf --dest emoji64.zip --resolution 64" \
        --command "stylegan2-train --data emoji64.zip --cfg small --norm ${name/stylegan2/demod} --mirror --aug ada --device cuda" \
        2>&1 | tail -2
done
ls -la "$OUT"
