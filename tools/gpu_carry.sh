#!/usr/bin/env bash
# Between two calls of tools/gpu_session.sh on one warm GPU machine (it goes back after 30 s
# idle, so this must be quick): make the first call's results what the second one goes on from.
#
#   bash tools/gpu_carry.sh DIR      # DIR: where the first call's files came back
#   run(command="MINUTES=2.2 BUDGET=280 bash tools/gpu_session.sh", carry=["runs/gpu_in"],
#       timeout_s=295)
#   bash tools/gpu_carry.sh --restore  # afterwards: the shipped files back in place
#
# DIR's $PREFIX-<name>.safetensors (PREFIX: faces64, as in gpu_session.sh) become
# runs/gpu_in/<norm>-g_ema.safetensors and its <norm>-state.safetensors go beside them. The
# dataset is not carried: the warm machine still has the runs/data/faces64.zip the first call drew.
# The shipped models and states move to runs/aside/ (ignored, so they stay here): with them the
# tree would be over the 64 MiB a call takes.
# For the emoji pair: PREFIX=emoji64, and the second call carries its dataset as well.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --restore ]; then
    for f in runs/aside/models/* runs/aside/training/*; do
        [ -e "$f" ] || continue
        dest=assets/$(basename "$(dirname "$f")")/$(basename "$f")
        mv -f "$f" "$dest"
    done
    git status --short assets
    exit 0
fi
src=${1:?usage: gpu_carry.sh DIR | --restore}
PREFIX=${PREFIX:-faces64}
mkdir -p runs/gpu_in runs/aside/models runs/aside/training
rm -f runs/gpu_in/*-commands.txt runs/gpu_in/*-note.txt  # the bundles' cards hold the history
for pair in demod:stylegan2 adain:adain; do
    norm=${pair%%:*} name=${pair#*:}
    cp "$src/$PREFIX-$name.safetensors" "runs/gpu_in/$norm-g_ema.safetensors"
    cp "$src/$norm-state.safetensors" "runs/gpu_in/$norm-state.safetensors"
done
for f in assets/models/*.safetensors assets/training/*.safetensors; do
    [ -e "$f" ] && mv "$f" "runs/aside/$(basename "$(dirname "$f")")/"
done
echo "runs/gpu_in ready; the shipped models and states wait in runs/aside/ (--restore)"
