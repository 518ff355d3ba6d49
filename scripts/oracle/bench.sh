#!/usr/bin/env bash
# Encoding throughput of steerlib/tokenizer against the Rust tokenizers crate
# (npm tokenizers@0.23.2), single-threaded, on the same corpus in one run.
#
# Usage: scripts/oracle/bench.sh [PASSES] [TOKENIZER...]
#   (from the repository root; needs node/npm; `npm ci` in scripts/oracle first)
# Prints a table (MB/s and the Go/Rust ratio) and writes it to
# $OUT_DIR/tokenizer_bench.txt (default /tmp).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
passes=${1:-5}
shift || true
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(qwen2_5 llama3_2 gpt2 mistral_nemo gemma2 llama2)
out_dir=${OUT_DIR:-/tmp}
corpus=$(mktemp /tmp/tokbench.XXXXXX.json)
trap 'rm -f "$corpus"' EXIT

cd "$root/scripts/oracle"
node bench_corpus.mjs "$corpus"
rust=$(TOKENIZERS_PARALLELISM=false nice -n 10 node bench_rust.mjs "$corpus" "$passes" "${names[@]}")

cd "$root"
pattern="^BenchmarkEncodeCorpus/($(IFS='|'; echo "${names[*]}"))\$"
gobench=$(GOEXPERIMENT=simd GOMLX_BACKEND=go GOMLX_NO_AUTO_INSTALL=1 GOMAXPROCS=1 \
  GOSTEER_BENCH_CORPUS="$corpus" GOSTEER_BENCH_PASSES="$passes" nice -n 10 \
  go test ./steerlib/tokenizer/ -run '^$' -bench "$pattern" -benchtime 1x -cpu 1)

{
  echo "corpus: $(python3 -c "import json,sys; d=json.load(open('$corpus')); print(len(d), 'documents,', sum(len(s.encode()) for s in d), 'bytes')"), passes: $passes"
  printf "%-14s %12s %12s %8s\n" tokenizer "Rust MB/s" "Go MB/s" "Go/Rust"
  for n in "${names[@]}"; do
    r=$(echo "$rust" | python3 -c "import json,sys; [print(f\"{d['mb_per_s']:.2f}\") for d in map(json.loads, sys.stdin) if d['name']=='$n']")
    g=$(echo "$gobench" | awk -v n="BenchmarkEncodeCorpus/$n" '$1==n {for(i=1;i<=NF;i++) if($(i+1)=="MB/s") print $i}')
    ratio=$(python3 -c "print(f'{$g/$r:.2f}')")
    printf "%-14s %12s %12s %8s\n" "$n" "$r" "$g" "$ratio"
  done
} | tee "$out_dir/tokenizer_bench.txt"
