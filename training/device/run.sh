#!/usr/bin/env bash
# The whole GPU training of issue 25 in one command, for a lent device machine (H100/H200):
# the fleet's checks on the GPU, a short throughput probe, a fleet of wide teachers trained in
# one process, then a fleet of students within the latency budget distilled from them online, every
# stage bounded by --time-budget so the run ends inside one 10-minute device call. Writes logs
# and checkpoints to $OUT (at most 8 files, each under 16 MB); export and `melodora eval`
# happen back here, on the CPU.
#
#   device run, carry ["training/device/data"], timeout_s 600:
#     bash training/device/run.sh
#
# Stage sizes can be set from the environment (the variables below, with their defaults). Needs the data
# packed by training/device/pack_data.sh and python3 with torch and onnx (the H200 image has
# both). The recipe before fleet.py (train.py processes side by side) is this file at 3c3160f;
# its H200 numbers are in ../shared/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:?set OUT to the folder that comes back}
teachers=${TEACHERS:-4}                        # wide networks, one fused fleet
teacher_widths=${TEACHER_WIDTHS:-64,128,256,512}
teacher_epochs=${TEACHER_EPOCHS:-300}
teacher_budget=${TEACHER_BUDGET:-250}          # seconds for the teachers' stage
teacher_args=${TEACHER_ARGS:---cutmix 0.3}     # regularisers for the long schedule
student_widths=${STUDENT_WIDTHS:-32,80,160,320} # 1.6 ms a face on the direct engine (shipped 32,64,128,256: 1.1 ms)
student_inits=${STUDENT_INITS:-none none}       # one word a student: none (fresh) or shipped (needs shipped widths)
student_epochs=${STUDENT_EPOCHS:-300}
student_budget=${STUDENT_BUDGET:-170}          # seconds for the students' stage
deadline=${DEADLINE:-550}                      # seconds from the start by which training ends (the call: 600)
compile=${COMPILE:-default}                    # torch.compile mode, or none
probe_epochs=${PROBE_EPOCHS:-2}                # 0: no throughput probe (2 or more to time an epoch)
kind=${FLEET:-auto}                            # fused, loop, or auto: the faster in the probe
work=${WORK:-/tmp/melodora-train}
data=$work/data/fer2013
runs=$work/runs
export PYTHONUNBUFFERED=1

# Students' starts, checked before anything runs: a fresh network, or the shipped model
# rebuilt as a trainable checkpoint (below, on the CPU while the GPU trains).
student_init_args=()
needs_shipped=
read -ra student_init_words <<< "$student_inits"
for init in "${student_init_words[@]}"; do
  case $init in
    none) student_init_args+=(--init none) ;;
    shipped)
      [ "$student_widths" = 32,64,128,256 ] || { echo "STUDENT_INITS: shipped needs STUDENT_WIDTHS=32,64,128,256" >&2; exit 1; }
      student_init_args+=(--init "$runs/shipped/best.pt")
      needs_shipped=1 ;;
    *) echo "STUDENT_INITS: '$init' is neither none nor shipped" >&2; exit 1 ;;
  esac
done
students=${#student_init_words[@]}
[ "$students" -gt 0 ] || { echo "STUDENT_INITS names no student" >&2; exit 1; }

started=$(date +%s)
stage() { echo "== $(( $(date +%s) - started )) s: $*"; }
# fit BUDGET RESERVED: BUDGET, or what is left before the deadline once RESERVED seconds are
# kept for what comes after and a stage's own start-up and saving (20 s) are paid: earlier
# stages that ran long (compilation, a slow start) shorten the training, not the call.
stage_overhead=20
fit() {
  local left=$(( deadline - ($(date +%s) - started) - stage_overhead - $2 ))
  echo $(( $1 < left ? $1 : left ))
}

stage "unpacking the data"
mkdir -p "$work/data" "$runs"
# Unpack (Python's tarfile, so no xz tool is needed there) and decode both splits once, into
# the cache every fleet.py below shares.
python3 - training/device/data/fer2013.tar.xz "$work/data" "$runs/cache" <<'PY'
import sys
import tarfile
from pathlib import Path
sys.path.insert(0, "training")
from train import load_split
with tarfile.open(sys.argv[1]) as archive:
    archive.extractall(sys.argv[2], filter="data")
for split in ("train", "val"):
    print(split, load_split(Path(sys.argv[2]) / "fer2013", split, Path(sys.argv[3]))[0].shape)
PY
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader || true

logs=$work/logs
mkdir -p "$logs"
# Whatever happens, the logs, every run's config and its per-epoch history come back.
pack_logs() {
  local dir
  for dir in "$runs"/*/; do
    [ -f "$dir/config.json" ] && cp "$dir/config.json" "$logs/$(basename "$dir").config.json"
    [ -f "$dir/history.jsonl" ] && cp "$dir/history.jsonl" "$logs/$(basename "$dir").history.jsonl"
  done
  tar -czf "$out/logs.tar.gz" -C "$work" logs
}
trap pack_logs EXIT

# fleet NAME ARGS...: one fleet.py, its output in logs/NAME.log, its last line echoed.
fleet() {
  local name=$1 status=0
  shift
  # shellcheck disable=SC2086  # EXTRA_ARGS is a list of options (e.g. "--limit 2048" for a smoke test)
  python3 training/fleet.py --data "$data" --cache "$runs/cache" --run "$runs/$name" "$@" ${EXTRA_ARGS:-} \
    > "$logs/$name.log" 2>&1 || status=$?
  echo "$name: $(tail -n 1 "$logs/$name.log")"
  return $status
}

stage "checking the fleet on this device"
python3 training/test_fleet.py > "$logs/test_fleet.log" 2>&1 || { cat "$logs/test_fleet.log"; exit 1; }
tail -n 1 "$logs/test_fleet.log"

from_onnx=
if [ -n "$needs_shipped" ]; then
  python3 training/from_onnx.py --onnx assets/emotion.onnx --out "$runs/shipped/best.pt" \
    --data "$data" --cache "$runs/cache" --threads 4 > "$logs/from_onnx.log" 2>&1 &
  from_onnx=$!
fi

if [ "$probe_epochs" -gt 0 ]; then
  stage "throughput probe: $teachers wide networks fused and looped, eager, $probe_epochs epochs each"
  for probed in fused loop; do
    fleet "probe-$probed" --fleet "$probed" --members "$teachers" --widths "$teacher_widths" \
      --epochs "$probe_epochs" --eval-every 1000 --checkpoint-every 1000 || echo "the $probed probe failed"
  done
fi
if [ "$kind" = auto ]; then
  # The last line of each probe: "done: N epochs, S s an epoch's training after the first, ...".
  pace() { [ ! -f "$logs/probe-$1.log" ] || sed -n 's/^done: .*, \([0-9.]*\) s an epoch.*/\1/p' "$logs/probe-$1.log"; }
  fused=$(pace fused) loop=$(pace loop)
  kind=fused
  if [ -n "$fused" ] && [ -n "$loop" ] && awk "BEGIN { exit !($loop < $fused) }"; then kind=loop; fi
  echo "fleet kind: $kind (probe: fused ${fused:-?} s, loop ${loop:-?} s an epoch)"
fi

teacher_budget=$(fit "$teacher_budget" $(( student_budget + stage_overhead )))
[ "$teacher_budget" -ge 30 ] || teacher_budget=30
stage "training $teachers teachers ($teacher_widths, up to $teacher_epochs epochs, $teacher_budget s)"
# shellcheck disable=SC2086  # teacher_args is a list of options
fleet teachers --fleet "$kind" --members "$teachers" --widths "$teacher_widths" --epochs "$teacher_epochs" \
  --time-budget "$teacher_budget" --compile "$compile" --seed 101 $teacher_args
teacher_nets=()
for i in $(seq 1 "$teachers"); do teacher_nets+=(--teacher-net "$runs/teachers/member-$i/best.pt"); done

[ -z "$from_onnx" ] || wait "$from_onnx"

student_budget=$(fit "$student_budget" 0)
if [ "$student_budget" -ge 20 ]; then
  stage "distilling $students students ($student_widths from $student_inits, up to $student_epochs epochs, $student_budget s)"
  fleet students --fleet "$kind" --members "$students" --widths "$student_widths" --epochs "$student_epochs" \
    --time-budget "$student_budget" --compile "$compile" --seed 201 "${student_init_args[@]}" "${teacher_nets[@]}"
else
  stage "no time left before the deadline ($deadline s) for the students: the teachers come back alone"
  students=0
fi

stage "collecting"
# Two students at most come back, best and last weights of each (fp32, 7.3 MB at the default widths).
for i in $(seq 1 "$(( students < 2 ? students : 2 ))"); do
  for which in best last; do
    python3 training/slim_checkpoint.py "$runs/students/member-$i/$which.pt" "$out/student-$i-$which.pt"
  done
done
# Three teachers at most: eight files come back, each under 16 MB (bf16 halves a wide one).
for i in $(seq 1 "$(( teachers < 3 ? teachers : 3 ))"); do
  python3 training/slim_checkpoint.py --bf16 "$runs/teachers/member-$i/best.pt" "$out/teacher-$i-best.pt"
done
stage "done"
ls -l "$out"
