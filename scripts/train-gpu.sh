#!/usr/bin/env bash
# The `full` profiles on a GPU machine, as one script: switches the virtual environment from
# tensorflow-cpu to TensorFlow with its CUDA wheels (glyph-train's `gpu` extra), then runs the training
# pipeline (primitives, tokenize, Phase 1, Phase 2 with the arcface margin and joint fine-tuning, the
# baseline, evaluation) and keeps the card's name beside the results (outputs/analysis/gpu.txt).
# Run from the repository root after `make install` and `make build` (the rasters store must exist).
#   scripts/train-gpu.sh                      # PIPELINE_*, PHASE1_*, PHASE2_*, ... variables still apply
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
mkdir -p outputs/analysis outputs/logs
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee outputs/analysis/gpu.txt

# A GPU takes cells faster than two threads cut them: prepare Phase 1 chunks on more cores.
PIPELINE_PROFILE=${PIPELINE_PROFILE:-full} PHASE1_DATA__WORKERS=${PHASE1_DATA__WORKERS:-8} \
  "$BIN/glyph-train" pipeline --config configs/pipeline.yaml 2>&1 | tee outputs/logs/pipeline_gpu.log
