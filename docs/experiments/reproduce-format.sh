#!/usr/bin/env bash
# The paper's format experiment (Stolfo et al., ICLR 2025) on one model:
# training pairs from IFEval base queries that are NOT in the test set, one
# vector per instruction (one per target language for the language
# instruction), the layer search with the GPT-2 perplexity screen on held-out
# validation pairs (separately without and with the instruction), then the
# four-condition evaluation of the 163 test prompts.
#
#   docs/experiments/reproduce-format.sh MODEL_DIR PPL_MODEL_DIR OUT_DIR
#
# Environment: DATA (default ../shared/data/llm-steer-instruct: the reference
# repository's data folder), STEER (default: steer), MAXNEW (new tokens per
# response, default 2048 as the paper), N (validation prompts per instruction,
# default 8), BATCH (default 16), PLAIN=1 for a base model ("Q: …\nA:"
# prompts; also use --base-model screening). Every step resumes when rerun.
set -euo pipefail

M=${1:?model folder} G=${2:?perplexity model folder (GPT-2)} W=${3:?output folder}
D=${DATA:-../shared/data/llm-steer-instruct}
STEER=${STEER:-steer} MAXNEW=${MAXNEW:-2048} N=${N:-8} BATCH=${BATCH:-16}
TEST=$D/ifeval_single_instr_format.jsonl
FORMAT_IDS=change_case:capital_word_frequency,change_case:english_capital,change_case:english_lowercase,detectable_format:constrained_response,detectable_format:json_format,detectable_format:multiple_sections,detectable_format:number_bullet_lists,detectable_format:number_highlighted_sections,detectable_format:title,punctuation:no_comma,startend:end_checker,startend:quotation
LANGS="ar de fa gu hi kn ko mr ne pa ru sw te ur"
plain=(); base=()
if [[ "${PLAIN:-}" == 1 ]]; then plain=(--plain); base=(--base-model); fi
mkdir -p "$W/vectors"

# 1. Base queries without the test prompts' queries; 80% train, 20% validation.
python3 - "$D/ifeval_wo_instructions.jsonl" "$TEST" "$W" <<'PY'
import json, sys
base, test, out = sys.argv[1:]
keys = {json.loads(l)["key"] for l in open(test)}
rows = [l for l in open(base) if json.loads(l)["key"] not in keys]
cut = len(rows) * 4 // 5
open(f"{out}/queries-train.jsonl", "w").writelines(rows[:cut])
open(f"{out}/queries-val.jsonl", "w").writelines(rows[cut:])
print(f"{len(rows)} base queries outside the test set: {cut} train, {len(rows) - cut} validation")
PY

# 2. Pairs: the format instructions, and each target language on its own.
"$STEER" vectors pairs --queries "$W/queries-train.jsonl" --ids "$FORMAT_IDS" --seed 1 --out "$W/pairs-train.jsonl"
"$STEER" vectors pairs --queries "$W/queries-val.jsonl" --ids "$FORMAT_IDS" --seed 2 --out "$W/pairs-val.jsonl"
train=("$W/pairs-train.jsonl")
for l in $LANGS; do
	"$STEER" vectors pairs --queries "$W/queries-train.jsonl" --ids language:response_language --kwargs "{\"language\":\"$l\"}" --seed 1 --out "$W/pairs-train-$l.jsonl"
	"$STEER" vectors pairs --queries "$W/queries-val.jsonl" --ids language:response_language --kwargs "{\"language\":\"$l\"}" --seed 2 --out "$W/pairs-val-$l.jsonl"
	train+=("$W/pairs-train-$l.jsonl")
done
cat "$W/pairs-val.jsonl" "$W"/pairs-val-??.jsonl > "$W/validation.jsonl"
trainlist=$(IFS=,; echo "${train[*]}")

# 3. One vector per instruction, one per target language.
vecs=()
for id in ${FORMAT_IDS//,/ }; do
	f="$W/vectors/${id//:/_}.safetensors"
	[[ -f "$f" ]] || "$STEER" vectors compute --model "$M" "${plain[@]}" --pairs "$W/pairs-train.jsonl" --instruction "$id" --out "$f"
	vecs+=("$f")
done
for l in $LANGS; do
	f="$W/vectors/language_$l.safetensors"
	[[ -f "$f" ]] || "$STEER" vectors compute --model "$M" "${plain[@]}" --pairs "$W/pairs-train-$l.jsonl" --instruction language:response_language --out "$f"
	vecs+=("language:response_language_$l=$f")
done
veclist=$(IFS=,; echo "${vecs[*]}")

# 4. Layer search, without and with the instruction (n per instruction, seed 42).
common=(--model "$M" --ppl-model "$G" --max-new-tokens "$MAXNEW" --batch "$BATCH" "${plain[@]}" --train-pairs "$trainlist")
"$STEER" sweep "${common[@]}" "${base[@]}" --vectors "$veclist" --data "$W/validation.jsonl" --n "$N" --seed 42 --out "$W/plan-without.json"
"$STEER" sweep "${common[@]}" "${base[@]}" --vectors "$veclist" --data "$W/validation.jsonl" --n "$N" --seed 42 --with-instruction --out "$W/plan-with.json"

# 5. The four conditions on the test set; table in results.md / results.csv.
"$STEER" eval "${common[@]}" --data "$TEST" --plan "$W/plan-without.json" --plan-with "$W/plan-with.json" --out "$W/results.jsonl"
