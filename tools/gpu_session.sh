#!/usr/bin/env bash
# The one prepared script for a session that is lent a GPU (the `device` tool): train the two
# bundled emoji models side by side, check the CUDA path against the CPU while they warm up,
# bundle both at the last kimg they share, then time the CUDA path if time is left.
#
#   run(command="bash tools/gpu_session.sh", carry=["runs/data/emoji64.zip"], timeout_s=590)
#
# Both runs share the GPU at once: at 64 px one run leaves most of an H100/H200 idle (kernel
# launches, not arithmetic, bound it), so two processes train both models in the time of one.
# MINUTES (default 6) is each run's training-time cap. Snapshots every 20 kimg at identical
# step counts (same batch) give both models a common kimg; that snapshot is bundled for each.
# The whole script must end inside one 600 s call, so every stage has its own time limit.
# $OUT gets session.log, emoji64-{stylegan2,adain}.safetensors and .md, runs.tar.gz (logs,
# stats, last sample grids): 6 files (the tool returns at most 8).
# Afterwards copy $OUT/emoji64-*.safetensors and .md into assets/models/.
#
# Longer training in two calls on one warm machine (its /tmp/runs survives between calls):
#   run(command="STAGE=train MINUTES=8.5 BUDGET=590 TESTS=0 bash tools/gpu_session.sh", ...,
#       timeout_s=600)      # trains only; session.log says where each run stands
#   run(command="STAGE=finish bash tools/gpu_session.sh", ..., timeout_s=200)
#                           # at once (the machine goes back after 30 s idle): brings the
#                           # behind run to the other's kimg, then bundles both
set -uo pipefail
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu-out}
MIN=${MINUTES:-6}
STAGE=${STAGE:-all}  # all | train | finish
BUDGET=${BUDGET:-570}  # seconds for the whole script: the call's timeout_s less the transfers
DEV=${DEVICE:-cuda}  # DEVICE=cpu MINUTES=1 TICK=0.1: a dry run of the whole script here
TICK=${TICK:-20}
DATA=runs/data/emoji64.zip
RUNS=/tmp/runs
mkdir -p "$OUT" "$RUNS"
exec > >(tee "$OUT/session.log") 2>&1
[ -f "$DATA" ] || { echo "missing $DATA: carry it"; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())"

DATASET="Noto Color Emoji (Debian fonts-noto-color-emoji, SIL OFL 1.1), 1287 images, 64 px"
COMMON=(--cfg small --batch 64 --mirror --aug ada --ada-kimg 100 --tick "$TICK" --snap 1 --workers 5
        --no-progress --device "$DEV")
declare -A PID
alive() {  # kill -0 also succeeds on a finished child that is not yet reaped (a zombie)
    local pid=$1
    [ -r "/proc/$pid/stat" ] && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$pid/stat"
}
start_run() {  # norm minutes [extra options]: starts in the background, sets PID[norm]
    local norm=$1 min=$2
    shift 2
    python3 -m training.cli --data "$DATA" --outdir "$RUNS" --norm "$norm" --kimg 100000 \
        --max-minutes "$min" "${COMMON[@]}" "$@" >> "$RUNS/train-$norm.log" 2>&1 &
    PID[$norm]=$!
}
SNAP='^network-snapshot-[0-9]+(\.[0-9]{3})?\.safetensors$'  # not a .tmp left by a killed save
BYKIMG=(env LC_ALL=C sort -t- -k3,3g)  # 000080.512 after 000080: by number, not by name
latest() {  # norm: the newest run folder's latest snapshot
    local dir
    dir=$(ls -d "$RUNS"/*-"$1" 2>/dev/null | tail -1)
    [ -n "$dir" ] && ls "$dir" | grep -E "$SNAP" | "${BYKIMG[@]}" | tail -1 | sed "s|^|$dir/|"
}
kimg_of() {
    timeout 30 python3 -c "
from stylegan2.checkpoints import load_checkpoint
print(load_checkpoint('$1').metadata['extra']['counters']['cur_nimg'] / 1000)"
}
wait_runs() {  # watchdog: a run still going 30 s past T_END gets Ctrl-C (a snapshot), then -9
    STOP=$((T_END + 30 < BUDGET - 150 ? T_END + 30 : BUDGET - 150))  # bundling needs the rest
    [ "$STAGE" = train ] && STOP=$((T_END + 30 < BUDGET - 30 ? T_END + 30 : BUDGET - 30))
    while [ $SECONDS -lt $STOP ] && { alive "${PID[demod]}" || alive "${PID[adain]}"; }; do
        sleep 5
    done
    for norm in demod adain; do kill -INT "${PID[$norm]}" 2>/dev/null; done
    sleep 1
    for i in $(seq 20); do
        { alive "${PID[demod]}" || alive "${PID[adain]}"; } || break
        sleep 1
    done
    for norm in demod adain; do kill -9 "${PID[$norm]}" 2>/dev/null; done
    wait "${PID[demod]}" "${PID[adain]}" 2>/dev/null  # a bare wait would wait for tee too
    for norm in demod adain; do
        echo "-- $norm"
        grep -E "tick|snapshot|Error|error" "$RUNS/train-$norm.log" | tail -6
    done
}
pack_logs() {  # logs, stats and the first and last sample grids travel back
    mkdir -p /tmp/back
    for dir in $(ls -d "$RUNS"/*-demod "$RUNS"/*-adain 2>/dev/null); do
        b=/tmp/back/$(basename "$dir")
        mkdir -p "$b"
        cp "$dir"/{log.txt,stats.jsonl,training_options.json,fakes_init.png} "$b"/ 2>/dev/null
        ls "$dir"/fakes[0-9]*.png 2>/dev/null | tail -1 | xargs -r -I{} cp {} "$b"/
    done
    cp "$RUNS"/train-*.log /tmp/back/ 2>/dev/null
    tar czf "$OUT/runs.tar.gz" -C /tmp back
}

if [ "$STAGE" = finish ]; then
    echo "== the behind run catches up (t=${SECONDS}s)"
    d_snap=$(latest demod) a_snap=$(latest adain)
    [ -n "$d_snap" ] && [ -n "$a_snap" ] || { echo "no runs in $RUNS: a fresh machine?"; exit 1; }
    K=$(python3 -c "print(max($(kimg_of "$d_snap"), $(kimg_of "$a_snap")))")
    echo "demod $d_snap, adain $a_snap: both to $K kimg"
    start_run demod 2 --resume "$d_snap" --kimg "$K"
    start_run adain 2 --resume "$a_snap" --kimg "$K"
    T_END=$((SECONDS + 120 + 45))
    wait_runs
fi

if [ "$STAGE" != finish ]; then
echo "== 1. training both models, $MIN min each (t=${SECONDS}s)"
start_run demod "$MIN"
start_run adain "$MIN"
T_END=$((SECONDS + $(python3 -c "print(round(60 * $MIN))") + 45))  # start-up and the last snapshot included

if [ "${TESTS:-1}" = 1 ]; then
    echo "== 2. CUDA path vs CPU and fp16 vs fp32, while the runs warm up (t=${SECONDS}s)"
    timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py 2>&1 | tail -20
fi

# A run that died at start (an untried CUDA path) gets one retry in fp32 with the time left.
while [ $SECONDS -lt 75 ] && alive "${PID[demod]}" && alive "${PID[adain]}"; do
    sleep 2
done
for norm in demod adain; do
    if ! alive "${PID[$norm]}" && ! wait "${PID[$norm]}"; then
        echo "!! the $norm run failed:"
        tail -25 "$RUNS/train-$norm.log"
        left=$(( (T_END - SECONDS - 45) / 60 ))
        if [ "$left" -ge 2 ]; then
            echo "retrying $norm in fp32 for $left min"
            rm -rf "$(ls -d "$RUNS"/*-"$norm" | tail -1)"  # the failed run's folder only
            start_run "$norm" "$left" --precision fp32
        fi
    fi
done
tail -n 3 "$RUNS"/train-*.log
wait_runs
fi
if [ "$STAGE" = train ]; then
    for norm in demod adain; do s=$(latest $norm); echo "$norm: $s at $(kimg_of "$s") kimg"; done
    pack_logs
    echo "trained; now run STAGE=finish at once (t=${SECONDS}s)"
    exit 0
fi

echo "== 3. bundling at the last common kimg (t=${SECONDS}s)"
d_dir=$(ls -d "$RUNS"/*-demod 2>/dev/null | tail -1)
a_dir=$(ls -d "$RUNS"/*-adain 2>/dev/null | tail -1)
common=$(comm -12 <(ls "$d_dir" | grep -E "$SNAP" | sort) \
                  <(ls "$a_dir" | grep -E "$SNAP" | sort) | "${BYKIMG[@]}" | tail -1)
bundle() {  # name norm snapshot
    local name=$1 norm=$2 snap=$3 kimg left=$((BUDGET - SECONDS - 20))
    [ $left -gt 20 ] || { echo "no time left to bundle $name"; return 1; }
    kimg=$(kimg_of "$snap")
    timeout $((BUDGET - SECONDS - 20)) python3 -m stylegan2.cli.main bundle "$snap" \
        --out "$OUT/emoji64-$name.safetensors" --title "Emoji 64 px, $name" \
        --dataset "$DATASET" --device "$DEV" \
        --command "stylegan2 dataset --emoji-font /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf --dest emoji64.zip --resolution 64" \
        --command "stylegan2-train --data emoji64.zip --outdir runs --norm $norm --kimg $kimg ${COMMON[*]}" \
        --note "Trained on one $(nvidia-smi --query-gpu=name --format=csv,noheader), sharing it with its twin (both runs at once)." \
        2>&1 | tail -3
}
if [ -n "$common" ]; then
    echo "common snapshot: $common"
    bundle stylegan2 demod "$d_dir/$common" &
    b1=$!
    bundle adain adain "$a_dir/$common" &
    wait $b1 $!
else
    echo "!! no common snapshot; bundling each run's last"
    for norm in demod adain; do
        dir=$([ $norm = demod ] && echo "$d_dir" || echo "$a_dir")
        snap=$(ls "$dir" 2>/dev/null | grep -E "$SNAP" | "${BYKIMG[@]}" | tail -1)
        snap=${snap:+$dir/$snap}
        [ -n "$snap" ] && bundle "$([ $norm = demod ] && echo stylegan2 || echo adain)" $norm "$snap"
    done
fi

pack_logs
for dir in $d_dir $a_dir; do  # and the grid of the bundled snapshot
    k=${common#network-snapshot-}; k=${k%.safetensors}
    cp "$dir/fakes$k.png" "/tmp/back/$(basename "$dir")"/ 2>/dev/null
done
tar czf "$OUT/runs.tar.gz" -C /tmp back

echo "== 4. CUDA speed, if time is left (t=${SECONDS}s)"
BENCH=${BENCH:-$([ "$STAGE" = all ] && echo 1 || echo 0)}
if [ "$BENCH" = 1 ] && [ $SECONDS -lt $((BUDGET - 70)) ]; then
    timeout 40 python3 -m stylegan2.cli.main bench --config small --device "$DEV" 2>&1 | tail -6
fi
if [ "$BENCH" = 1 ] && [ $SECONDS -lt $((BUDGET - 40)) ]; then
    timeout 40 python3 -m stylegan2.cli.main bench --config paper256 --device "$DEV" --min-time 2 \
        2>&1 | tail -6
fi
ls -la "$OUT"
echo "done at t=${SECONDS}s"
