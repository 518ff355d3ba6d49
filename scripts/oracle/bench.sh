#!/usr/bin/env bash
# Encoding throughput of steerlib/tokenizer against the Rust tokenizers crate
# (npm tokenizers@0.23.2), single-threaded, on the same corpus in one run.
#
# Usage (from the repository root, after `npm ci` in scripts/oracle):
#   scripts/oracle/bench.sh [PASSES] [TOKENIZER...]
# Env: GOSTEER_BENCH_NOFAST=1 measures Go without the hand-written
# pre-tokenizer matchers (regexp2 only).
# Prints a table and writes it to $OUT_DIR/tokenizer_bench.txt (default /tmp).
# "best" is the fastest pass (wall clock); "cpu" divides the bytes of all
# passes by the process CPU time, which is steadier on a loaded machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
passes=${1:-5}
shift || true
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(qwen2_5 qwen3 llama3_2 gpt2 mistral_nemo gemma2 llama2)
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
  echo "corpus: $(python3 -c "import json; d=json.load(open('$corpus')); print(len(d), 'documents,', sum(len(s.encode()) for s in d), 'bytes')"), passes: $passes, Go fast matchers: $([ "${GOSTEER_BENCH_NOFAST:-}" = 1 ] && echo off || echo on)"
  printf "%-14s %10s %10s %10s %10s %9s %9s\n" tokenizer "Rust best" "Go best" "Rust cpu" "Go cpu" "ratio" "ratio cpu"
  for n in "${names[@]}"; do
    read -r rb rc < <(echo "$rust" | python3 -c "import json,sys; [print(f\"{d['best_mb_per_s']:.2f} {d['cpu_mb_per_s']:.2f}\") for d in map(json.loads, sys.stdin) if d['name']=='$n']")
    read -r gb gc < <(echo "$gobench" | awk -v n="BenchmarkEncodeCorpus/$n" '$1==n {for(i=1;i<=NF;i++){if($(i+1)=="best-MB/s")b=$i; if($(i+1)=="cpu-MB/s")c=$i}; print b, c}')
    printf "%-14s %10s %10s %10s %10s %9s %9s\n" "$n" "$rb" "$gb" "$rc" "$gc" \
      "$(python3 -c "print(f'{$gb/$rb:.2f}')")" "$(python3 -c "print(f'{$gc/$rc:.2f}')")"
  done
  echo "(MB/s of UTF-8 input, single thread; ratio = Go/Rust)"
} | tee "$out_dir/tokenizer_bench.txt"
