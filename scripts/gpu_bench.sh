#!/usr/bin/env bash
# gpu_bench.sh: gosteer's GPU benchmark, run from the repository root on a GPU
# machine that has no Go toolchain. It needs, under .gpu/ (ignored by git):
#   .gpu/steer           built here:  CGO_ENABLED=1 GOEXPERIMENT=simd go build -o .gpu/steer ./steerlib/cmd/steer
#   .gpu/env.sh          copied from ../shared/gpu/env.sh   (points GoMLX at the CUDA PJRT plugin)
#   .gpu/hf_baseline.py  copied from ../shared/gpu/hf_baseline.py
# It writes every log and JSON result under $OUT and finishes in under 6 minutes
# (each step has its own timeout). Both programs run the same shape, dtype,
# batches, prompt length and number of new tokens, in the same job.
set -u
OUT=${OUT:-./gpu_out}
mkdir -p "$OUT"
cd "$(dirname "$0")/.." || exit 1
BATCHES=1,16
PROMPT=128
NEW=64

{
  echo "date: $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
  ls -l .gpu/ 2>&1
} > "$OUT/machine.txt"

# shellcheck disable=SC1091
source .gpu/env.sh > "$OUT/env.log" 2>&1 || { echo "env.sh failed" >> "$OUT/env.log"; }

# gosteer: random-weight gemma-2-2b, bf16 compute on the XLA CUDA backend.
start=$(date +%s)
timeout 210 .gpu/steer bench --shape gemma-2-2b --dtype bf16 --batches "$BATCHES" --prompt "$PROMPT" --new "$NEW" \
  --out "$OUT/steer_bench.json" > "$OUT/steer_bench.log" 2>&1
echo "exit=$? seconds=$(( $(date +%s) - start ))" >> "$OUT/steer_bench.log"

# Peer baseline: transformers generate() with a steering hook, same settings.
start=$(date +%s)
timeout 110 python3 .gpu/hf_baseline.py --out "$OUT" --models gemma-2-2b --batches "$BATCHES" --prompt "$PROMPT" --new "$NEW" \
  > "$OUT/hf_baseline.log" 2>&1
echo "exit=$? seconds=$(( $(date +%s) - start ))" >> "$OUT/hf_baseline.log"

tail -n 20 "$OUT/steer_bench.log" "$OUT/hf_baseline.log"
