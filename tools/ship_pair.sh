#!/usr/bin/env bash
# Ship a StyleGAN2 model and its AdaIN twin from two training snapshots at the same kimg: the
# bundles with measured cards (assets/models), the hand-off states that let any machine train
# them on (assets/training), and the pictures the README shows (docs/). Run from the repository:
#
#   bash tools/ship_pair.sh DEMOD_SNAPSHOT ADAIN_SNAPSHOT
#
# PREFIX (default faces64) names the files: assets/models/$PREFIX-stylegan2.safetensors and
# $PREFIX-adain.safetensors, assets/training/$PREFIX-<name>-state.safetensors,
# docs/samples-$PREFIX{,-adain}.png, docs/mixing-$PREFIX{,-fine}.png and, for the default model's pair
# (COMPARE_SHOT=1, the default), docs/screenshot-compare.png.
# DATA is the training dataset (default runs/data/$PREFIX.zip; the cards' precision/recall is
# measured against it), TITLE the cards' title stem, DATASET the cards' dataset text.
# What each model draws needs a person's eyes: put one note per line in
# runs/ship/<norm>-notes.txt (norm: demod, adain); runs/ship/<norm>-commands.txt holds the
# commands that made the run, one a line, and runs/ship/common-notes.txt notes for both cards.
# With the face probe saved (PROBE, default runs/probe/$PREFIX-probe.safetensors), each model
# also gets its named directions (tools/factor_directions.py) as $PREFIX-<name>-directions.npz.
# The tables for the README are printed at the end (training.card_tables).
set -euo pipefail
demod=$(realpath "${1:?usage: ship_pair.sh DEMOD_SNAPSHOT ADAIN_SNAPSHOT}")
adain=$(realpath "${2:?usage: ship_pair.sh DEMOD_SNAPSHOT ADAIN_SNAPSHOT}")
PREFIX=${PREFIX:-faces64}
DATA=$(realpath "${DATA:-$(dirname "$0")/../runs/data/$PREFIX.zip}")
cd "$(dirname "$0")/.."
TITLE=${TITLE:-Procedural faces 64 px}
DATASET=${DATASET:-"procedural cartoon faces drawn by training/faces.py (this project's own code, MIT licence): 20000 images at 64 px, seed 0, rebuilt exactly by the first command"}
SHIP=runs/ship
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
[ -f "$DATA" ] || { echo "missing $DATA"; exit 1; }
kimg_of() {
    python -c "
from stylegan2.checkpoints import load_checkpoint
print(round(load_checkpoint('$1').metadata['extra']['counters']['cur_nimg'] / 1000, 1))"
}
kd=$(kimg_of "$demod") ka=$(kimg_of "$adain")
# The pair's point is one recipe and one budget: the cards must show the same kimg.
[ "$kd" = "$ka" ] || { echo "the snapshots are at $kd and $ka kimg: train the one behind on"; exit 1; }

lines_as() {  # flag file: --flag LINE for each non-empty line of file
    local flag=$1 file=$2 line
    [ -f "$file" ] || return 0
    # (a last line without its newline counts; a blank line is skipped, not a failure under -e)
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        if [ -n "$line" ]; then printf '%s\0%s\0' "$flag" "$line"; fi
    done < "$file"
}

for pair in "demod:stylegan2:$demod" "adain:adain:$adain"; do
    IFS=: read -r norm name snap <<< "$pair"
    out=assets/models/$PREFIX-$name.safetensors
    mapfile -d '' extra < <(lines_as --command "$SHIP/$norm-commands.txt";
                             lines_as --note "$SHIP/common-notes.txt";
                             lines_as --note "$SHIP/$norm-notes.txt")
    echo "== $name from $snap"
    stylegan2 bundle "$snap" --out "$out" --title "$TITLE, $name" --dataset "$DATASET" \
        --data "$DATA" "${extra[@]}"
    python -m training.handoff split "$snap" --force \
        --state "assets/training/$PREFIX-$name-state.safetensors"
    ls -la "$out" "assets/training/$PREFIX-$name-state.safetensors"
done

D=assets/models/$PREFIX-stylegan2.safetensors
A=assets/models/$PREFIX-adain.safetensors
# Named directions beside each model (the explorer opens them with it), labelled by the face
# probe that tools/factor_coverage.py trains and saves (PROBE).
PROBE=${PROBE:-runs/probe/$PREFIX-probe.safetensors}
if [ -f "$PROBE" ]; then
    for name in stylegan2 adain; do
        python tools/factor_directions.py "assets/models/$PREFIX-$name.safetensors" \
            --probe "$PROBE" --out "assets/models/$PREFIX-$name-directions.npz" \
            | tee "$SHIP/$name-directions.md"
    done
else
    echo "!! no $PROBE: the named directions are left as they were (tools/factor_coverage.py --probe)"
fi
echo "== pictures"
rm -rf "$SHIP/grid" && mkdir -p "$SHIP/grid"
stylegan2 generate --network "$D" --seeds 0-31 --grid 8 --outdir "$SHIP/grid/demod"
stylegan2 generate --network "$A" --seeds 0-31 --grid 8 --outdir "$SHIP/grid/adain"
cp "$SHIP/grid/demod/grid.png" "docs/samples-$PREFIX.png"
cp "$SHIP/grid/adain/grid.png" "docs/samples-$PREFIX-adain.png"
# Coarse styles (ws 0-3: the 4 and 8 px layers and the first 16 px conv) and fine ones (ws 6-9:
# the second 32 px conv, its tRGB and the 64 px layers) from the column seeds.
stylegan2 mix --network "$D" --rows 1-4 --cols 5-9 --styles 0-3 --out "docs/mixing-$PREFIX.png"
stylegan2 mix --network "$D" --rows 1-4 --cols 5-9 --styles 6-9 --out "docs/mixing-$PREFIX-fine.png"
if [ "${COMPARE_SHOT:-1}" = 1 ]; then
    stylegan2-explorer --network "$D" --compare "$A" --tab Features \
        --screenshot docs/screenshot-compare.png
fi
echo "== tables for the README"
python -m training.card_tables "$D" "$A"
