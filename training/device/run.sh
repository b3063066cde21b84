#!/usr/bin/env bash
# The whole GPU training of issue 3 in one command, for a lent device machine (H100/H200):
# wide teachers in parallel, then two students of the shipped size distilled from them online
# (one from scratch, one from the shipped model), every stage bounded by --time-budget so the
# run ends inside one 10-minute device call. Writes logs and checkpoints to $OUT (at most 8
# files, each under 16 MB); export and `melodora eval` happen back here, on the CPU.
#
#   device run, carry ["training/device/data"], timeout_s 600:
#     bash training/device/run.sh
#
# Stage sizes can be set from the environment (the variables below, with their defaults). Needs the data
# packed by training/device/pack_data.sh and python3 with torch and onnx (the H200 image has
# both).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:?set OUT to the folder that comes back}
teachers=${TEACHERS:-3}                       # wide networks, trained side by side
teacher_widths=${TEACHER_WIDTHS:-64,128,256,512}
teacher_epochs=${TEACHER_EPOCHS:-150}
teacher_budget=${TEACHER_BUDGET:-240}         # seconds for the teachers' stage
student_widths=${STUDENT_WIDTHS:-32,64,128,256}  # the shipped network's size
student_epochs=${STUDENT_EPOCHS:-300}
student_budget=${STUDENT_BUDGET:-210}         # seconds for the students' stage
work=${WORK:-/tmp/melodora-train}
data=$work/data/fer2013
runs=$work/runs
export PYTHONUNBUFFERED=1

started=$(date +%s)
stage() { echo "== $(( $(date +%s) - started )) s: $*"; }

stage "unpacking the data"
mkdir -p "$work/data" "$runs"
# Unpack (Python's tarfile, so no xz tool is needed there) and decode both splits once, into
# the cache every train.py below shares.
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
# Whatever happens, the logs and every run's config come back.
pack_logs() {
  local dir
  for dir in "$runs"/*/; do
    [ -f "$dir/config.json" ] && cp "$dir/config.json" "$logs/$(basename "$dir").config.json"
  done
  tar -czf "$out/logs.tar.gz" -C "$work" logs
}
trap pack_logs EXIT

# launch NAME ARGS...: one train.py in the background; finish: wait for all, fail if any failed.
pids=()
running=()
launch() {
  local name=$1
  shift
  # shellcheck disable=SC2086  # EXTRA_ARGS is a list of options (e.g. "--limit 2048" for a smoke test)
  python3 training/train.py --data "$data" --run "$runs/$name" --threads 2 --checkpoint-every 10 "$@" ${EXTRA_ARGS:-} \
    > "$logs/$name.log" 2>&1 &
  pids+=($!)
  running+=("$name")
}
finish() {
  local failed=0 pid name
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  for name in "${running[@]}"; do echo "$name: $(tail -n 1 "$logs/$name.log")"; done
  pids=()
  running=()
  return $failed
}

# The shipped model, rebuilt as a trainable checkpoint, is the second student's start; this
# runs on the CPU while the teachers train.
python3 training/from_onnx.py --onnx assets/emotion.onnx --out "$runs/shipped/best.pt" \
  --data "$data" --cache "$runs/cache" --threads 4 > "$logs/from_onnx.log" 2>&1 &
from_onnx=$!

stage "training $teachers teachers ($teacher_widths, up to $teacher_epochs epochs, $teacher_budget s)"
teacher_nets=()
for i in $(seq 1 "$teachers"); do
  launch "teacher-$i" --widths "$teacher_widths" --epochs "$teacher_epochs" --time-budget "$teacher_budget" --seed $((100 + i))
  teacher_nets+=(--teacher-net "$runs/teacher-$i/best.pt")
done
finish

wait "$from_onnx"

stage "distilling two students (up to $student_epochs epochs, $student_budget s)"
launch student-scratch --widths "$student_widths" --epochs "$student_epochs" --time-budget "$student_budget" \
  --seed 201 "${teacher_nets[@]}"
launch student-shipped --epochs $((student_epochs / 2)) --lr 0.02 --time-budget "$student_budget" \
  --seed 202 --init "$runs/shipped/best.pt" "${teacher_nets[@]}"
finish

stage "collecting"
for name in student-scratch student-shipped; do
  for which in best last; do
    python3 training/slim_checkpoint.py "$runs/$name/$which.pt" "$out/$name-$which.pt"
  done
done
# Three teachers at most: eight files come back, each under 16 MB (bf16 halves a wide one).
for i in $(seq 1 "$(( teachers < 3 ? teachers : 3 ))"); do
  python3 training/slim_checkpoint.py --bf16 "$runs/teacher-$i/best.pt" "$out/teacher-$i-best.pt"
done
stage "done"
ls -l "$out"
