#!/usr/bin/env bash
# A layer search (steer sweep) over N machines as a Slurm job array, then a
# dependent job that merges the shards and writes the plan.
#
#   N=8 MODEL=/models/Phi-3-mini-4k-instruct PPL=/models/gpt2 \
#   DATA=/data/llm-steer-instruct/ifeval_single_instr_format.jsonl \
#   VECTORS=$(ls /work/vectors/*.safetensors | paste -sd, -) WORK=/work/sweep \
#   bash docs/experiments/sweep-slurm.sh
#
# Each array task gets SLURM_ARRAY_TASK_ID (0..N-1) and SLURM_ARRAY_TASK_COUNT
# (N); `steer sweep` reads them as its shard when --shard is absent and appends
# its results line by line to its own file. A requeued or rerun task resumes
# its file. The merge job runs once every task succeeded (afterok).
# Add --with-instruction (and another --out) for the with-instruction search;
# the same pattern runs `steer eval` sharded, merged with
# `steer merge --out results.jsonl $WORK/eval-*.jsonl`.
set -euo pipefail

: "${N:=8}" "${MODEL:?model folder}" "${DATA:?validation JSONL}" "${VECTORS:?comma-separated vector files}"
: "${WORK:=$PWD/sweep}" "${PPL:=}" "${STEER:=steer}" "${PARTITION:=gpu}"
export GOMLX_NO_AUTO_INSTALL=1
# On GPU nodes: export GOMLX_BACKEND=xla:/abs/path/pjrt_c_api_gpu_plugin.so before running this script.
mkdir -p "$WORK"

common=(--model "$MODEL" --vectors "$VECTORS" --data "$DATA" --out "$WORK/plan.json" --n 8 --seed 42 --max-new-tokens 512 --quiet)
if [[ -n "$PPL" ]]; then common+=(--ppl-model "$PPL"); fi
printf -v cmd '%q ' "$STEER" sweep "${common[@]}"

array=$(sbatch --parsable --job-name=steer-sweep --partition="$PARTITION" --gres=gpu:1 \
	--array="0-$((N - 1))" --output="$WORK/shard-%a.log" --export=ALL \
	--wrap="$cmd --results $WORK/shard-\${SLURM_ARRAY_TASK_ID}.jsonl")

sbatch --parsable --job-name=steer-sweep-merge --partition="$PARTITION" --gres=gpu:1 \
	--dependency="afterok:$array" --output="$WORK/merge.log" --export=ALL \
	--wrap="set -e; $(printf '%q ' "$STEER") merge --out $WORK/merged.jsonl $WORK/shard-*.jsonl && $cmd --results $WORK/merged.jsonl && test -f $WORK/plan.json"
echo "submitted array $array ($N shards) and its merge; the plan will be $WORK/plan.json"
