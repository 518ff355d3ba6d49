#!/usr/bin/env bash
# Retrain the embedded tinyif pair (base + instruct) on a CPU, in about 25 minutes on 2 cores.
#
#   bash scripts/train_tinyif_cpu.sh [DATA]        (DATA defaults to /tmp/tinyif-cpu; rerun to resume)
#
# Needs Go and Debian's PyTorch (apt-get install -y python3-torch libopenblas0-pthread; it runs /usr/bin/python3).
# Steps: (1) Go writes the tokenizer, both config.json files and the tokenized corpora (steerlib/tinyif/cmd/tinyif
# prepare); (2) scripts/train_tinyif_torch.py pre-trains the base model on plain text, then (3) fine-tunes the
# instruct model from it on the chat corpus; (4) Go loads each result through steerlib/model and checks its logits
# against the trainer's. Each training stage checkpoints and resumes. When all passes, install with
#   bash scripts/train_tinyif_cpu.sh DATA install
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${1:-/tmp/tinyif-cpu}"
BASE_STEPS=300
INSTRUCT_STEPS=2500
export GOEXPERIMENT=simd GOMLX_BACKEND=go GOMLX_NO_AUTO_INSTALL=1 OMP_WAIT_POLICY=PASSIVE
PY=/usr/bin/python3
if [ "${2:-}" = install ]; then
	for stage in base instruct; do
		dst=steerlib/tinyif/model
		[ "$stage" = base ] && dst=steerlib/tinyif/model/base
		mkdir -p "$dst"
		cp "$DATA/$stage"/{config.json,generation_config.json,model.safetensors,tokenizer.json,tokenizer_config.json} "$dst/"
		# training.json: the trainer's record, with the command that retrains the pair
		"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); r["command"]="bash scripts/train_tinyif_cpu.sh (" + r.get("command", "stage " + r["stage"]) + ")"; json.dump(r, open(sys.argv[2], "w"), indent=2)' \
			"$DATA/$stage/training_torch.json" "$dst/training.json"
		cp "$DATA/$stage/loss.csv" "$dst/loss.csv"
	done
	echo "installed $DATA/{base,instruct} into steerlib/tinyif/model{/base,}"
	exit 0
fi
start=$SECONDS
if [ ! -f "$DATA/verify.jsonl" ]; then
	go run ./steerlib/tinyif/cmd/tinyif prepare --data "$DATA"
fi
echo "prepare: $((SECONDS - start)) s"
for stage in base instruct; do
	if [ ! -f "$DATA/$stage/trainer_logits.json" ]; then
		steps=$BASE_STEPS lr=3e-3 warmup=30
		[ "$stage" = instruct ] && steps=$INSTRUCT_STEPS lr=2e-3 warmup=30
		nice -n 5 "$PY" scripts/train_tinyif_torch.py --data "$DATA" --stage "$stage" --steps "$steps" --lr "$lr" --warmup "$warmup"
	fi
	echo "$stage: $((SECONDS - start)) s"
done
for stage in base instruct; do
	go run ./steerlib/tinyif/cmd/tinyif verify --model "$DATA/$stage"
done
echo "train_tinyif_cpu: done in $((SECONDS - start)) s; install with: bash $0 $DATA install"
