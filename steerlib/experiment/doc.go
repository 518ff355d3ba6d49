// Package experiment runs the paper's protocol (Stolfo et al., ICLR 2025) on
// any model that steerlib/model loads: dataset-level steered evaluation in
// four conditions, the per-instruction layer search with its perplexity
// screen, and sharded, resumable execution of both.
//
// # Data
//
// Evaluation and validation sets are JSONL records in the paper's IFEval
// format: prompt (with the instruction), prompt_without_instruction,
// instruction_id_list, kwargs and optional instruction_id_list_for_eval
// (language instructions suffixed _xx, e.g. language:response_language_kn).
// The eval ids name the steering of a record: a language record is steered
// by its own target language's vector.
//
// # Conditions
//
//	without        prompt_without_instruction, no steering
//	without+steer  prompt_without_instruction, the plan's steering
//	with           prompt, no steering
//	with+steer     prompt, the plan's steering (PlanWith when given)
//
// Decoding is greedy. Responses are scored by steerlib/ifeval in strict and
// loose mode; a record's verdict is "all of its instructions followed".
//
// # Operators
//
// After decoder block l, at every position: clamp x ← x + (z̄ − x·û)·û (the
// paper's operator for format, case and language instructions) and add
// x ← x + c·û (length and word instructions).
//
// # Plans
//
// A plan maps eval ids to their steering; "none" is a recorded choice, coef
// is the add coefficient c or the clamp target z̄ (default: the vector
// file's z̄ at the layer); vector paths are relative to the plan file:
//
//	{"setting": "without",
//	 "instructions": {
//	   "change_case:english_lowercase": {"vector": "lc.safetensors", "layer": 12, "op": "clamp"},
//	   "language:response_language_kn": {"vector": "kn.safetensors", "layer": "none"},
//	   "keywords:existence":            {"vector": "kw.safetensors", "layer": 14, "op": "add", "coef": 6}},
//	 "records": {"1042": {"vector": "word_owl.safetensors", "layer": 14, "op": "add", "coef": 6}}}
//
// "records" (optional) steers single records by key, overriding their
// instructions' choices. Sweep also writes "candidates": every candidate's
// accuracy, degenerate share and score per instruction.
//
// # Layer search
//
// For each instruction, the candidates are "no steering" and every second
// layer from ⌊L/5⌋: {−1} ∪ {⌊L/5⌋, ⌊L/5⌋+2, …} (L decoder blocks), each with
// every add coefficient for add operators. n validation records per
// instruction are sampled with a seed. A candidate's score is its IFEval
// loose accuracy a = (1/n)·Σ 1[response follows the instruction], except
// that it scores 0 when its degenerate share d = (1/n)·Σ 1[PPL < 2.5] exceeds
// a baseline (0 for instruct models; the no-steering candidate's share for
// base models). The highest score wins; ties go to the earliest candidate, so
// "no steering" wins ties.
//
// # Perplexity screen
//
// The perplexity of a response under a reference LM (the paper: GPT-2) is
// computed on the reference LM's tokenization of the response without added
// special tokens, keeping the last 1024 tokens t₁…t_T:
//
//	PPL = exp( −1/(T−1) · Σ_{i=2..T} log p(tᵢ | t₁…tᵢ₋₁) )
//
// A response of fewer than two tokens has no token to predict; it gets
// PPL = 1 (degenerate), as the reference code records when its loss fails.
// The log-probabilities come from model.TokenLogProbs (log-softmax in the
// graph), summed in float64; responses are scored in small groups of one
// length bucket, at most 4 rows and 256 MiB of [B, T, V] logits each (a
// 1024-token GPT-2 row, 206 MB, runs alone). Each group runs at a shape fixed
// by its bucket (filler rows complete it), so a response's perplexity is the
// same, bit for bit, whatever responses it is scored with.
//
// # Runs
//
// The Runner splits the units, in order, into batches of BatchSize; each row
// carries its own steering (model.GenerateOptions.RowSteer), so a layer
// search's k candidates × n prompts run as ⌈k·n/B⌉ full batches in one
// compiled graph (see BENCHMARKS.md).
// Work units (record × condition × candidate) are keyed. A shard i/n takes
// the units whose position in the run's canonical order is i modulo n.
// Results are appended one JSON line per unit and synced after every batch;
// a rerun skips the units already in the file, and a torn last line (a kill
// mid-write) is dropped. Every line carries the run fingerprint (model, data,
// plan, options), and Merge refuses files of different runs.
package experiment
