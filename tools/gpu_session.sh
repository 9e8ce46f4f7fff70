#!/usr/bin/env bash
# The one prepared script for a session that is lent a GPU (the `device` tool): go on training
# the two bundled procedural-faces models side by side, bring them to the same kimg, bundle both,
# and send back what the next session (GPU or CPU) needs to go on from there. One call:
#
#   run(command="bash tools/gpu_session.sh", timeout_s=600)
#
# It carries nothing for the dataset: runs/data/faces64.zip (20000 faces, 263 MB) is over what a
# call takes, so when DATA is missing the script draws it there (`stylegan2 dataset --faces 20000
# --resolution 64 --workers 13`, the same images as anywhere: training/faces.py draws each face
# from its own seed) and logs how long that took; a warm machine keeps it for the next call.
#
# Where the runs go on from: a full snapshot is 156 MB, over what a call carries (64 MiB in all)
# or brings back (16 MiB a file), so runs travel as hand-offs (training/handoff.py): a G_ema plus
# a 9.5 MB state file (D, counters, ADA p) tied to it. By default these are the shipped ones:
# assets/models/$PREFIX-<name>.safetensors with assets/training/$PREFIX-<name>-state.safetensors
# (PREFIX: faces64; name: stylegan2 for norm demod, adain). runs/gpu_in/ overrides them for a run
# that went on elsewhere: <norm>-state.safetensors, <norm>-g_ema.safetensors, <norm>-commands.txt
# (the card's earlier commands, one a line; else they come from the G_ema's card) and
# <norm>-note.txt. For that call move assets/models/*.safetensors and assets/training/* into an
# ignored folder (say runs/aside/; untracked files would still travel), or the tree is over the
# 64 MiB a call takes. Without any state both models start from scratch.
#
# Both runs share the GPU at once: at 64 px one run leaves most of an H100/H200 idle (kernel
# launches, not arithmetic, bound it), so two processes train both models in the time of one.
# After MINUTES (default 6.5) the run that is behind trains alone up to the other's kimg, so the
# two bundles have the same kimg. Every stage has its own time limit inside BUDGET seconds (a
# dataset drawn there comes out of it too).
# $OUT gets session.log, runs.tar.gz (logs, stats, last sample grids), $PREFIX-{stylegan2,adain}
# .safetensors and .md, and {demod,adain}-state.safetensors: 8 files, the most a call returns.
# BUNDLE=0 leaves the bundling (minutes of measuring for the cards) to a machine whose time is
# not leased: the GPU trains about two minutes longer and sends back the hand-offs only (G_ema
# halves without cards as $PREFIX-<name>.safetensors, and the states); join them there and
# bundle with tools/ship_pair.sh.
# To ship: the .safetensors go to assets/models/ and the states to assets/training/ (renamed to
# $PREFIX-<name>-state.safetensors); the cards' notes (what the models draw) need a person.
# With time left on a warm machine (it goes back after 30 s idle), a second call goes on from
# the first's results: `bash tools/gpu_carry.sh DIR` (DIR: where they came back) at once, then
#   run(command="CHECKS=0 BATCH=<the first call's> MINUTES=2.2 BUDGET=280 bash tools/gpu_session.sh",
#       carry=["runs/gpu_in"], timeout_s=295)
# and `bash tools/gpu_carry.sh --restore` after it.
#
# Before training (CHECKS=1, the default), the GPU checks its own path while the CPUs draw the
# dataset (the `gpu` tests: CUDA renders against the CPU's, fp16 blocks against fp32, a
# mixed-precision step, R1 through ADA). BATCH is each run's batch; unset, one run's training
# step is then timed alone at batches BENCH (default 32 64 128 256; as `stylegan2-train
# --bench`, random data, img/s) and BATCH is 128 where one run at 128 trains at least 1.5 times
# the images per second of one at 64 (64 still launch-bound), else 64. Two runs share the GPU
# in training, so their own img/s (in the logs) is what to quote. PRECISION is fp32 by default:
# the runs' precision on the CPU; at 64 px the step is launch-bound, where mixed precision only
# adds cast kernels. The cards record every batch and precision change of a run's history.
# The emoji pair still works: PREFIX=emoji64 DATA=runs/data/emoji64-faces.zip AUG=ada, DATA carried.
# A dry run of the whole script here, with a small dataset (FACES: how many faces to draw when
# DATA is missing) and nothing written into the checkout (HAND: a hand-off folder in /tmp):
#   DEVICE=cpu MINUTES=0.3 TICK=0.05 BUDGET=900 FACES=200 DATA=/tmp/dry/faces64.zip \
#       OUT=/tmp/dry/out RUNS=/tmp/dry/runs nice -n 15 bash tools/gpu_session.sh
set -uo pipefail
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu-out}
MIN=${MINUTES:-6.5}
BUDGET=${BUDGET:-585}  # seconds for the whole script: the call's timeout_s less the transfers
DEV=${DEVICE:-cuda}
TICK=${TICK:-20}
PREFIX=${PREFIX:-faces64}
FACES=${FACES:-20000}
# The bundled models' dataset: the procedural faces (training/faces.py), drawn here when missing.
DATA=${DATA:-runs/data/$PREFIX.zip}
HAND=${HAND:-runs/gpu_in}  # a dry run here reads its hand-off from /tmp instead
RUNS=${RUNS:-/tmp/runs}
BACK=$(mktemp -d)  # what runs.tar.gz packs
mkdir -p "$OUT" "$RUNS"
exec > >(tee "$OUT/session.log") 2>&1
if [ "$PREFIX" = faces64 ]; then
    DATA_CMD="stylegan2 dataset --faces $FACES --resolution 64 --dest $DATA --workers 13"
    TITLE=${TITLE:-"Procedural faces 64 px"}
    DATASET=${DATASET:-"procedural cartoon faces drawn by training/faces.py (this project's own code, MIT licence): $FACES images at 64 px, seed 0, rebuilt exactly by the first command"}
else
    DATA_CMD="stylegan2 dataset --emoji-font /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf --emoji-set faces --dest $DATA --resolution 64"
    TITLE=${TITLE:-"Emoji faces 64 px"}
    DATASET=${DATASET:-"Noto Color Emoji (Debian fonts-noto-color-emoji, SIL OFL 1.1), 64 px: every emoji (1287 images) to 305.2 kimg, then only the faces (110 images, --emoji-set faces)"}
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())"
PRECISION=${PRECISION:-fp32}
case "$PRECISION" in auto | fp32 | mixed) ;; *) echo "PRECISION is auto, fp32 or mixed"; exit 1 ;; esac
# The GPU's own checks run while the CPUs draw the dataset; neither waits for the other.
CHECKS_DIR=$(mktemp -d)
if [ "$DEV" = cuda ] && [ "${CHECKS:-1}" = 1 ]; then
    # two threads: the dataset's 13 drawing processes have the other cores
    OMP_NUM_THREADS=2 timeout 120 python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py \
        > "$CHECKS_DIR/tests.log" 2>&1 &
    TESTS_PID=$!
    trap 'kill "$TESTS_PID" 2>/dev/null' EXIT  # an early exit leaves no test on the GPU
fi
if [ ! -f "$DATA" ]; then
    [ "$PREFIX" = faces64 ] || { echo "missing $DATA: carry it"; exit 1; }
    echo "== 0. drawing $DATA: $FACES faces (t=${SECONDS}s)"
    mkdir -p "$(dirname "$DATA")"
    t=$SECONDS
    # A hung build must not eat the training's time: a third of the budget at most.
    timeout -s INT $((BUDGET / 3)) python3 -m commands.main dataset --faces "$FACES" \
        --resolution 64 --dest "$DATA" --workers 13 || { echo "!! cannot draw $DATA"; exit 1; }
    echo "drew $DATA in $((SECONDS - t)) s ($(du -h "$DATA" | cut -f1))"
fi
if [ -n "${TESTS_PID:-}" ]; then
    wait "$TESTS_PID"
    echo "== 0b. the gpu tests (rc $?, t=${SECONDS}s)"
    tail -n 6 "$CHECKS_DIR/tests.log"
fi
if [ -z "${BATCH:-}" ]; then
# One run's step alone at each batch, in one process (CUDA starts once): img/s on random data.
echo "== 0c. one run's training step alone, $PRECISION (t=${SECONDS}s)"
timeout 90 python3 - "$DATA" "$DEV" "$PRECISION" ${BENCH:-32 64 128 256} > "$CHECKS_DIR/bench.txt" <<'PY'
import sys
import torch

from stylegan2.device import resolve_device
from training.bench import bench_training
from training.options import TrainOptions, resolve, use_mixed_precision

data, dev, precision, *batches = sys.argv[1:]
device = resolve_device(dev)
for norm in ("demod", "adain"):
    for b in map(int, batches):
        opts = TrainOptions(
            data=data, outdir="unused", cfg="small", norm=norm, batch=b, precision=precision
        )
        rc = resolve(opts, 64, 3, 0, mixed=use_mixed_precision(opts, device.type))
        try:
            r = bench_training(rc, device, reps=7, count_flops=False)
        except torch.OutOfMemoryError:
            print(norm, b, "out-of-memory", flush=True)
            continue
        print(norm, b, f"{r['img_per_sec']:.0f}", flush=True)
        print(f"  {norm} batch {b}: {r['img_per_sec']:.0f} img/s (G {r['Gmain_sec'] * 1e3:.1f} ms,"
              f" D {r['Dmain_sec'] * 1e3:.1f} ms a step)", file=sys.stderr, flush=True)
PY
cat "$CHECKS_DIR/bench.txt"
    # demod's img/s at 64 and 128 decide
    r64=$(awk '$1 == "demod" && $2 == 64 {print $3}' "$CHECKS_DIR/bench.txt")
    r128=$(awk '$1 == "demod" && $2 == 128 {print $3}' "$CHECKS_DIR/bench.txt")
    BATCH=64
    if [[ "$r64" =~ ^[1-9][0-9]*$ ]] && [[ "$r128" =~ ^[0-9]+$ ]] \
        && [ $((2 * r128)) -ge $((3 * r64)) ]; then
        BATCH=128
    fi
    echo "batch $BATCH for both runs (one run alone: ${r64:-?} img/s at 64, ${r128:-?} at 128)"
fi

AUG=${AUG:-none}
BUNDLE=${BUNDLE:-1}
# Seconds of BUDGET left when both runs stop, and when the one behind must have caught up.
TAIL=$([ "$BUNDLE" = 1 ] && echo 150 || echo 120)
CATCH_END=$([ "$BUNDLE" = 1 ] && echo 75 || echo 60)
ADA=()
[ "$AUG" = ada ] && ADA=(--ada-kimg "${ADA_KIMG:-20}")
COMMON=(--cfg small --batch "$BATCH" --mirror --aug "$AUG" "${ADA[@]}" --tick "$TICK" --snap 1
        --workers 5 --no-progress --device "$DEV" --precision "$PRECISION")
NORMS=(demod adain)
declare -A PID START G_SRC ST_SRC START_KIMG
name_of() { [ "$1" = demod ] && echo stylegan2 || echo adain; }
alive() {  # kill -0 also succeeds on a finished child that is not yet reaped (a zombie)
    local pid=$1
    [ -r "/proc/$pid/stat" ] && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$pid/stat"
}
any_alive() { local n; for n in "$@"; do alive "${PID[$n]}" && return 0; done; return 1; }
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
nimg_of() {
    timeout 30 python3 -c "
from stylegan2.checkpoints import load_checkpoint
print(load_checkpoint('$1').metadata['extra']['counters']['cur_nimg'])"
}
wait_runs() {  # stop_at norms...: a run still going at stop_at gets Ctrl-C (a snapshot), then -9
    local stop=$1 n
    shift
    while [ $SECONDS -lt "$stop" ] && any_alive "$@"; do sleep 2; done
    for n in "$@"; do kill -INT "${PID[$n]}" 2>/dev/null; done
    for _ in $(seq 20); do any_alive "$@" || break; sleep 1; done
    for n in "$@"; do kill -9 "${PID[$n]}" 2>/dev/null; wait "${PID[$n]}" 2>/dev/null; done
    for n in "$@"; do
        echo "-- $n"
        grep -E "tick|snapshot|resumed|Error|error" "$RUNS/train-$n.log" | tail -4
    done
}

echo "== 1. where the runs go on from (t=${SECONDS}s)"
for norm in "${NORMS[@]}"; do
    st=$HAND/$norm-state.safetensors
    [ -f "$st" ] || st=assets/training/$PREFIX-$(name_of "$norm")-state.safetensors
    [ -f "$st" ] || { echo "$norm: no hand-off state, a fresh run"; continue; }
    g=$HAND/$norm-g_ema.safetensors
    [ -f "$g" ] || g=assets/models/$PREFIX-$(name_of "$norm").safetensors
    timeout 60 python3 -m training.handoff join --force --g-ema "$g" --state "$st" \
        --out "/tmp/start-$norm.safetensors" || { echo "!! cannot join $norm's hand-off"; exit 1; }
    START[$norm]=/tmp/start-$norm.safetensors G_SRC[$norm]=$g ST_SRC[$norm]=$st
    START_KIMG[$norm]=$(python3 -c "print(round($(nimg_of "${START[$norm]}") / 1000, 1))")
    shipped=assets/training/$PREFIX-$(name_of "$norm")-state.safetensors
    if [ "$st" != "$shipped" ] && [ -f "$shipped" ]; then  # a forgotten runs/gpu_in is no start
        ship_kimg=$(timeout 30 python3 -c "
from training.handoff import read_state
print(round(read_state('$shipped')['counters']['cur_nimg'] / 1000, 1))")
        if python3 -c "import sys; sys.exit(not ${START_KIMG[$norm]} < ${ship_kimg:-0})"; then
            echo "!! $st is at ${START_KIMG[$norm]} kimg, behind the shipped $shipped" \
                "(${ship_kimg} kimg): remove $HAND, or move the shipped files aside to use it"
            exit 1
        fi
    fi
done

echo "== 2. training both models, $MIN min each (t=${SECONDS}s)"
declare -A BEFORE  # each norm's newest run folder before this call (a warm machine has some)
for norm in "${NORMS[@]}"; do
    BEFORE[$norm]=$(ls -d "$RUNS"/*-"$norm" 2>/dev/null | tail -1)
    start_run "$norm" "$MIN" ${START[$norm]:+--resume "${START[$norm]}"}
done
T0=$SECONDS
T_END=$((SECONDS + $(python3 -c "print(round(60 * $MIN))") + 40))  # start-up, last snapshot
# A run that died at start (an untried CUDA path) gets one retry in fp32 with the time left.
while [ $((SECONDS - T0)) -lt 60 ] && alive "${PID[demod]}" && alive "${PID[adain]}"; do sleep 2; done
for norm in "${NORMS[@]}"; do
    if ! alive "${PID[$norm]}" && ! wait "${PID[$norm]}"; then
        echo "!! the $norm run failed:"
        tail -25 "$RUNS/train-$norm.log"
        left=$(( (T_END - SECONDS - 40) / 60 ))
        if [ "$left" -ge 2 ]; then
            echo "retrying $norm in fp32 for $left min"
            failed=$(ls -d "$RUNS"/*-"$norm" 2>/dev/null | tail -1)
            [ -n "$failed" ] && [ "$failed" != "${BEFORE[$norm]}" ] && rm -rf "$failed"  # its own only
            start_run "$norm" "$left" --precision fp32 ${START[$norm]:+--resume "${START[$norm]}"}
        fi
    fi
done
tail -n 2 "$RUNS"/train-*.log
wait_runs $((T_END < BUDGET - TAIL ? T_END : BUDGET - TAIL)) "${NORMS[@]}"

echo "== 3. the run behind goes on alone to the other's kimg (t=${SECONDS}s)"
d_snap=$(latest demod) a_snap=$(latest adain)
if [ -n "$d_snap" ] && [ -n "$a_snap" ]; then
    d_n=$(nimg_of "$d_snap") a_n=$(nimg_of "$a_snap")
    echo "demod at ${d_n:-?} images, adain at ${a_n:-?}"
    B=$BATCH
    if [ -z "$d_n" ] || [ -z "$a_n" ]; then
        echo "!! cannot read a snapshot's image count: no catching up"
    elif [ $((d_n - a_n)) -ge "$B" ] || [ $((a_n - d_n)) -ge "$B" ]; then  # a batch or more apart
        if [ "$d_n" -lt "$a_n" ]; then behind=demod snap=$d_snap K=$a_n; else behind=adain snap=$a_snap K=$d_n; fi
        stop=$((BUDGET - CATCH_END))
        left=$(python3 -c "print(max(0.2, ($stop - $SECONDS - 20) / 60))")
        start_run "$behind" "$left" --resume "$snap" --kimg "$(python3 -c "print($K / 1000)")"
        wait_runs "$stop" "$behind"
    fi
fi

echo "== 4. bundling both (BUNDLE=$BUNDLE), and the states to go on from (t=${SECONDS}s)"
bundle() {  # norm snapshot
    local norm=$1 snap=$2 name kimg cmds=() note=() line
    name=$(name_of "$norm")
    kimg=$(python3 -c "print(round($(nimg_of "$snap") / 1000, 1))")
    if [ -f "$HAND/$norm-commands.txt" ]; then
        while IFS= read -r line || [ -n "$line" ]; do [ -n "$line" ] && cmds+=(--command "$line"); done \
            < "$HAND/$norm-commands.txt"
    elif [ -n "${G_SRC[$norm]:-}" ]; then  # the history so far: the commands on G_ema's card
        while IFS= read -r line || [ -n "$line" ]; do [ -n "$line" ] && cmds+=(--command "$line"); done < <(
            timeout 30 python3 -c "
from stylegan2.checkpoints import load_checkpoint
print('\\n'.join(load_checkpoint('${G_SRC[$norm]}').metadata['card'].get('commands', [])))")
    fi
    # The card's first command makes the dataset (its text says so), whatever history came before.
    if [ "$PREFIX" = faces64 ] && ! printf '%s\n' "${cmds[@]}" | grep -q -- "dataset --faces"; then
        cmds=(--command "$DATA_CMD" "${cmds[@]}")
    elif [ ${#cmds[@]} -eq 0 ]; then
        cmds+=(--command "$DATA_CMD")
    fi
    if [ -n "${START[$norm]:-}" ]; then
        cmds+=(--command "python -m training.handoff join --g-ema ${G_SRC[$norm]} --state ${ST_SRC[$norm]} --out start-$norm.safetensors   # the files as they were at ${START_KIMG[$norm]} kimg")
        cmds+=(--command "stylegan2-train --data $DATA --outdir runs --norm $norm --kimg $kimg ${COMMON[*]} --resume start-$norm.safetensors   # on the GPU")
    else
        cmds+=(--command "stylegan2-train --data $DATA --outdir runs --norm $norm --kimg $kimg ${COMMON[*]}")
    fi
    [ -f "$HAND/$norm-note.txt" ] && note+=(--note "$(cat "$HAND/$norm-note.txt")")
    note+=(--note "GPU part trained on one $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || echo "$DEV"), sharing it with its twin (both runs at once).")
    # SIGINT, not SIGTERM: Python then runs its cleanup, which removes a half-written file.
    timeout -s INT $((BUDGET - SECONDS > 55 ? BUDGET - SECONDS - 25 : 30)) \
        python3 -m commands.main bundle "$snap" \
        --out "$OUT/$PREFIX-$name.safetensors" --title "$TITLE, $name" \
        --dataset "$DATASET" --data "$DATA" --device "$DEV" "${cmds[@]}" "${note[@]}" 2>&1 | tail -2 || {
        echo "!! bundling $name failed: no state either (it would have no G_ema to go with)"
        return 1
    }
    timeout -s INT $((BUDGET - SECONDS > 35 ? BUDGET - SECONDS - 5 : 30)) \
        python3 -m training.handoff split "$snap" --state "$OUT/$norm-state.safetensors"
}
pids=()
for norm in "${NORMS[@]}"; do
    snap=$(latest "$norm")
    if [ -z "$snap" ]; then
        echo "!! no $norm snapshot"
    elif [ "$BUNDLE" = 1 ]; then
        bundle "$norm" "$snap" & pids+=($!)
    else  # the hand-off only: G_ema (no card) and state, bundled where time is not leased
        timeout -s INT $((BUDGET - SECONDS > 10 ? BUDGET - SECONDS - 5 : 5)) \
            python3 -m training.handoff split "$snap" --state "$OUT/$norm-state.safetensors" \
            --g-ema "$OUT/$PREFIX-$(name_of "$norm").safetensors" & pids+=($!)
    fi
done
for p in "${pids[@]}"; do wait "$p"; done  # not a bare wait: it would wait for tee too
# Only the 8 files this script promises travel back (at most 8 do): no half-written leftovers.
find "$OUT" -maxdepth 1 -type f ! -name session.log ! -name "$PREFIX-*.safetensors" \
    ! -name "$PREFIX-*.md" ! -name '*-state.safetensors' -delete

mkdir -p "$BACK/back"  # logs, stats and the first and last sample grids travel back
for dir in $(ls -d "$RUNS"/*-demod "$RUNS"/*-adain 2>/dev/null); do
    b=$BACK/back/$(basename "$dir")
    mkdir -p "$b"
    cp "$dir"/{log.txt,stats.jsonl,training_options.json,fakes_init.png} "$b"/ 2>/dev/null
    # by number (fakes000001.750 after fakes000001), not by name
    ls "$dir"/fakes[0-9]*.png 2>/dev/null | sed 's|.*/fakes||; s|\.png$||' | LC_ALL=C sort -g \
        | tail -1 | xargs -r -I{} cp "$dir/fakes{}.png" "$b"/
done
cp "$RUNS"/train-*.log "$BACK/back/" 2>/dev/null
tar czf "$OUT/runs.tar.gz" -C "$BACK" back
ls -la "$OUT"
echo "done at t=${SECONDS}s"
