#!/usr/bin/env bash
# Train a tinyif instruct model on a GPU machine (XLA backend) with the Go trainer, in a few minutes.
#
# This is the GPU path of `steer tinyif train`: one stage, from scratch, instruct model only. The embedded pair
# (base + instruct fine-tuned from it) is made by scripts/train_tinyif_cpu.sh; see steerlib/tinyif/model/README.md.
#
# The GPU machine may have no Go toolchain: build the steer binary here with cgo (XLA's PJRT loader needs it)
# and carry it with the checkout:
#
#   CGO_ENABLED=1 GOEXPERIMENT=simd go build -o build/steer ./steerlib/cmd/steer
#
# then, on the GPU machine, from the repository root:
#
#   bash scripts/gpu_train_tinyif.sh [path/to/steer]
#
# It sources the GPU environment (.gpu/env.sh, else ../shared/gpu/env.sh) which sets GOMLX_BACKEND to the CUDA
# PJRT plugin, runs `steer tinyif train` with the default (documented) settings and writes the model folder to
# $OUT/tinyif (or ./out/tinyif when $OUT is unset), with training.json, loss.csv and train.log next to it.
# Install it with:  cp $OUT/tinyif/{config.json,generation_config.json,model.safetensors,tokenizer.json,\
#   tokenizer_config.json,training.json,loss.csv} steerlib/tinyif/model/
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${1:-build/steer}"
if [ ! -x "$BIN" ]; then
	echo "gpu_train_tinyif: no steer binary at $BIN (build it with CGO_ENABLED=1, see the header)" >&2
	exit 2
fi
if [ -f .gpu/env.sh ]; then
	# shellcheck disable=SC1091
	source .gpu/env.sh
elif [ -f ../shared/gpu/env.sh ]; then
	# shellcheck disable=SC1091
	source ../shared/gpu/env.sh
else
	echo "gpu_train_tinyif: no .gpu/env.sh or ../shared/gpu/env.sh" >&2
	exit 2
fi
OUTDIR="${OUT:-out}/tinyif"
mkdir -p "$OUTDIR"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
start=$SECONDS
# Checkpoints live outside the model folder so only the model is fetched back.
set +e
"$BIN" tinyif train --out "$OUTDIR" --checkpoints "${TMPDIR:-/tmp}/tinyif-checkpoints" 2>&1 | tr '\r' '\n' | tee "$OUTDIR/train.log" | grep -v '^\['
status=${PIPESTATUS[0]}
set -e
echo "gpu_train_tinyif: steer exited with $status after $((SECONDS - start)) s"
ls -l "$OUTDIR"
exit "$status"
