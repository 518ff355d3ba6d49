// Package paper runs the five experiments of Stolfo et al. (ICLR 2025),
// "Improving Instruction-Following in Language Models through Activation
// Steering", on any model folder gosteer loads, and on the embedded tinyif
// model with its own small prompt sets:
//
//   - Format: one direction per format or language instruction (mean
//     difference of last-token residuals with and without the instruction),
//     a layer search on validation prompts, separately with and without the
//     instruction in the prompt, then four conditions on the test prompts
//     (without; without + steering; with; with + steering), IFEval loose.
//     Operator: clamp, x ← x + (z̄ − x·û)·û at every position after block l.
//   - Length: a conciseness direction from pairs whose two prompts ask for
//     opposite levels of brevity; add x ← x + c·û at a fixed layer for a sweep
//     of c (c < 0 is more verbose); prompts ask for "at most N sentences"
//     (N = 1..5) or nothing; sentence and word counts per c.
//   - Words: one direction per word (inclusion phrasings), add +c·û for
//     inclusion and −c·û of the same direction for exclusion; (layer, c)
//     chosen on validation prompts; IFEval strict.
//   - Compose: a format clamp at its layer and the conciseness add at the
//     length layer in one generation, scored on both instructions.
//   - Transfer: directions and z̄ from an instruction-tuned model applied to
//     its base model with plain "Q: …\nA:" prompts; the layer search redone
//     on the base; cosine cos(û_instruct,l, û_base,l) per layer.
//
// Layer search (the reference protocol): candidates are "no steering" and
// every second layer from ⌊L/5⌋; for each, greedy answers to n validation
// prompts (seed 42) and their IFEval accuracy. With a perplexity model, the
// perplexity of a response r is PPL(r) = exp(−1/(T−1) Σ_{t=2..T} log p(r_t |
// r_<t)) over the last 1024 tokens of r (tokenized without special tokens);
// a response with PPL < 2.5 is degenerate, and so is a response of fewer than
// two tokens (PPL is recorded as 1, as the reference records it). A candidate
// whose share of degenerate responses exceeds the baseline (0, or the
// no-steering share for base models) scores 0. The best score wins; ties go
// to the earliest candidate, so "no steering" wins ties.
//
// Every generation is a keyed work unit of steerlib/experiment (the engine):
// its Runner generates and scores them in full batches, each row under its
// own steering, and its results writer appends them to results.jsonl line by
// line, synced, so a killed run resumes where it stopped (a torn last line
// is dropped) and a rerun generates nothing new. Results are fingerprinted
// (models, data, options): a folder of another run is refused. --shard i/n
// runs the units at positions ≡ i (mod n) of each phase's ordered unit list
// into results.shard-i-of-n.jsonl in the same folder; every run reads every
// results file there, so once all shards of a phase are done any of them
// continues with the next phase (a shard that finds units of others missing
// stops with ErrPending), and the run that completes the experiment writes
// the merged results.jsonl, table.md, table.csv, plan.json, the figures
// (.svg, .png) and report.html.
package paper
