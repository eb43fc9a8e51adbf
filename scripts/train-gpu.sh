#!/usr/bin/env bash
# Phase 1 with the `full` profile on a GPU machine, as one script: switches the virtual environment from
# tensorflow-cpu to TensorFlow with its CUDA wheels (glyph-train's `gpu` extra), fits the primitives if
# they are missing, trains, and keeps the card's name next to the run's metrics (outputs/analysis/phase1/).
# Run from the repository root after `make install` and `make build` (the rasters store must exist).
#   scripts/train-gpu.sh                      # PHASE1_* variables still override the config
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin

gpus() { "$BIN/python" -c "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))" 2>/dev/null || echo 0; }
if [ "$(gpus)" = "0" ]; then
  # tensorflow-cpu and tensorflow share the `tensorflow` package folder: remove one before adding the other.
  "$BIN/pip" uninstall -y -q tensorflow-cpu
  "$BIN/pip" install -q "tensorflow[and-cuda]==2.21.0"
fi
[ "$(gpus)" != "0" ] || { echo "train-gpu: TensorFlow sees no GPU" >&2; exit 1; }
mkdir -p outputs/analysis/phase1 outputs/logs
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee outputs/analysis/phase1/gpu.txt

test -f outputs/primitives/primitive_centroids.npy || "$BIN/glyph-train" primitives --config configs/primitives.yaml
# A GPU takes cells faster than two threads cut them: prepare chunks on more cores.
PHASE1_PROFILE=${PHASE1_PROFILE:-full} PHASE1_DATA__WORKERS=${PHASE1_DATA__WORKERS:-8} "$BIN/glyph-train" phase1 --config configs/phase1.yaml 2>&1 \
  | tee outputs/logs/phase1_gpu.log
