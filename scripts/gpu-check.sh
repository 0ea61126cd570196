#!/usr/bin/env bash
# GPU check for the trainer, run on a machine with CUDA and PyTorch 2.11 (its libtorch libraries
# are used): trains the stdlib bpr_mf with the same seed on CUDA and on CPU, requires the metrics
# to agree (|ΔNDCG@10|, |ΔRecall@10| <= 0.01), prints examples/s for one and K concurrent
# candidates, then the PyTorch eager baseline on the same device.
#
#   cargo build --release -p trainer --example gpu_check     # on the build machine
#   scripts/gpu-check.sh path/to/gpu_check path/to/ml-100k.inter
set -euo pipefail
bin=${1:?usage: gpu-check.sh GPU_CHECK_BINARY [ML_100K_INTER]}
data=${2:-}
torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
echo "== evoflow trainer: CUDA vs CPU, throughput"
"$bin" ${data:+"$data"} --epochs 40 --max-k 8
echo "== PyTorch eager on the same device"
python3 "$(dirname "$0")/../engine/trainer/benches/throughput.py" --device cuda --threads 8
