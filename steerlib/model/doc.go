// Package model runs Hugging Face decoder-only language models in GoMLX with
// the hook points activation steering needs: the residual stream after every
// decoder block can be captured, and steering operators (add, clamp, ablate)
// can be applied there, with their vectors and coefficients as graph inputs.
//
// # Loading
//
// Load reads a model folder (config.json, generation_config.json,
// model.safetensors or a sharded index) or a Hub id ("hf://org/name"),
// converting F32/BF16/F16 weights to the compute dtype (float32 by default;
// bfloat16 with WithDType, meant for GPUs). A local folder never touches the
// network. Supported: LlamaForCausalLM (Llama 2/3.x, SmolLM/SmolLM2,
// TinyLlama), MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
// Phi3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM (text) and
// GPT2LMHeadModel. RoPE settings come from transformers-5 "rope_parameters"
// (flat or per layer type) or older "rope_theta"/"rope_scaling"; scaling
// types default, linear and llama3. GPT-2 checkpoints load with or without
// the "transformer." key prefix; its fused Conv1D c_attn ([D, 3D], y = x·W + b)
// is split into q, k and v, and the attn.bias / attn.masked_bias buffers are
// ignored.
//
// # The decoder stack
//
// One loop, written once, serves the full-sequence forward, the prompt pass
// (prefill) and each decode step:
//
//	x ← embed(ids) (+ wpe(positions) for GPT-2)
//	for each block l:
//	    x ← x + attn(norm(x))          (RoPE on q, k unless learned positions)
//	    x ← x + mlp(norm(x))           (gated SiLU/GELU, or GPT-2's plain GELU)
//	    x ← steer_l(x); capture_l(x)   (resid_post.l)
//	logits ← head(norm(x))
//
// Only where attention's keys come from differs: the sequence itself, or the
// KV cache. Gemma adds post-norms on both branches; GPT-2 norms are LayerNorm
// with a bias.
//
// # Hook point
//
// resid_post.<l> is the output of decoder block l (0-based): Hugging Face
// hidden_states[l+1] before the final norm, TransformerLens
// blocks.l.hook_resid_post, llama.cpp's per-layer output. SteerOp{Layer: l}
// acts at that point, before block l+1 reads it; Forward captures it after
// any steering at that layer.
//
// # Steering
//
// Every operator is x ← x + (α + β·(x·u))·u per row (add: α = C, β = 0;
// clamp: α = z̄, β = −1; ablate: α = 0, β = −1). Steering always runs per
// row: the graph has steering slots, each a direction [B, D] and
// coefficients (α, β) [B, 2] as inputs; a row without an op in a slot gets
// u = 0 and leaves x unchanged. Batch-wide ops (Steer) are the case where
// every row holds the same ops; RowSteer gives each row its own (a layer
// sweep runs its candidates side by side in full batches). An op's Scope is
// applied by zeroing its coefficients in the pass it does not act on.
//
// # Log-probabilities
//
// Model.TokenLogProbs (Forward with Logits: TokenLogProbs) returns each
// token's log-probability given the tokens before it, computed inside the
// graph over left-padded rows: what a perplexity screen needs (the paper
// screens steered answers with GPT-2's perplexity).
//
// # What compiles when
//
// Every call runs a compiled graph chosen by (kind of call, structure,
// bucketed shapes). Sequence lengths are padded on the left to BucketLen
// (multiples of 16 up to 128, of 64 up to 512, then of 256) and batch sizes to
// a power of two (BucketBatch), so calls with nearby shapes share a graph.
//
//   - Forward: one graph per (bucketed B, bucketed T, LogitsMode, steering
//     slots). With At=LastToken all layers are captured inside the graph, so
//     the chosen Layers never recompile; with At=AllPositions the layer set
//     is part of the key.
//   - Generate: one prefill graph per (bucketed B, bucketed prompt length,
//     cache length, steering slots, token choice) and one decode graph per
//     (bucketed B, cache length, steering slots, token choice). The cache
//     length is BucketLen(prompt bucket + MaxNewTokens). The token choice
//     is greedy or sampling, whether sampling has a top-k stage and a top-p
//     stage, and whether the call asked for logits (OnLogits): at most 10
//     variants, each compiled on first use; temperature, K, P and the seed
//     are inputs and never recompile.
//   - Steering slots: with Steer (batch-wide), the steered layers with their
//     number of ops; moving an op to another layer recompiles. With RowSteer,
//     every layer gets k slots, k the most ops one row has at one layer: any
//     mix of layers (and rows without steering) shares one graph per k.
//   - Steering vectors, coefficients, kinds and scopes are inputs: changing
//     them never recompiles.
//
// Model.NumCompiled counts the graphs built so far.
//
// # Reusing the forward pass
//
// ForwardGraph builds the same decoder over a full sequence from weights
// given by a WeightFn (canonical names and Hugging Face shapes [out, in]:
// WeightShapes), so a trainer can bind them to trainable variables and share
// this code. A loaded Model keeps its matrices transposed (projections
// [in, out], the embedding [D, V]): faster matrix-vector products on the
// pure-Go backend; the arithmetic is the same.
//
// # Choosing tokens
//
// Every prefill and decode step ends with the token choice inside its graph
// and returns only the new ids [B] (int32); a decode step reads the previous
// step's ids tensor as it is. The host copies the ids to apply the stop
// rules and stream them; logits [B, V] leave the graph only when a caller
// sets GenerateOptions.OnLogits.
//
// Greedy is ArgMax of the float32 logits (the first of equal maxima), as
// before sampling moved into the graph: greedy output is unchanged.
//
// Sampling (Greedy false, Temperature T > 0) keeps a set of tokens, then
// draws from softmax(logit/T) over that set:
//
//   - top-k (0 < K < V): the tokens whose logit is ≥ the K-th largest logit;
//   - top-p (0 < P < 1), after top-k: with p the softmax of logit/T over the
//     kept tokens (float64), the tokens whose logit is ≥ t, t the largest
//     logit with Σ{p_j : logit_j ≥ t} ≥ P: the shortest prefix of the
//     tokens sorted by logit whose probability reaches P.
//
// Both thresholds are found without sorting, by a radix select over the
// float32 bit patterns (ordered like the floats: the pattern of x ≥ 0, the
// pattern with its 31 low bits flipped for x < 0): one byte per pass, from
// the top; each pass adds the weights (1 for top-k, p for top-p) of the
// tokens still matching the prefix into 256 buckets of their next byte
// (ScatterSum) and keeps the highest byte whose suffix sum reaches K or P.
// Four passes over [B, V], exact for any finite logits. The draw
// is Gumbel-max: argmax over kept tokens of logit/T + g, g = −log(−log U),
// U uniform in [0, 1) from GoMLX's RandomUniform (Philox); this has exactly
// the distribution softmax(logit/T) over the kept set. The RNG state
// (GoMLX's RNGStateShape) is a graph input and output, seeded from
// GenerateOptions.Seed with RNGStateFromSeed and carried from step to step.
//
// Compared with the host sampler this replaces (sort the logits, cut to K,
// float64 probabilities, cut the prefix reaching P, one uniform per row
// through the cumulative sum): the kept sets are the same, except that
// tokens tied with the boundary logit are all kept here (the sort kept an
// arbitrary subset of them) and that the float64 sums of the probabilities
// are added in a different order (a boundary closer than about 1e-15 to P
// may fall differently); the distribution over the kept set is the same;
// the draws for a given seed are not (another generator, and one uniform
// per token instead of one per row), but they are reproducible: same seed,
// same tokens, on the same backend.
//
// # KV cache
//
// The cache is a fixed-size [B, KV heads, S, head_dim] tensor per layer,
// zero beyond what was written; it is created by the prefill graph, stays a
// backend buffer between steps (it is never copied to the host) and each
// decode step adds its key and value into the next slot with ScatterSum
// (exact, since the slot holds zeros): the pure-Go backend has no
// DynamicUpdateSlice. The caches are donated to the step
// (DonateTensorBuffer), so the update is in place: in GoMLX v0.28's pure-Go
// backend (github.com/gomlx/compute, internal/gobackend) an op may reuse an
// input buffer as its output when the buffer is owned by the execution (a
// donated parameter) and this op is its last use; Scatter does so
// (ops/scatter.go), and the scatter is the cache parameter's only use. On
// XLA, go-xla v0.3.0 passes the donation to PJRT at execution (SetDonate),
// but its StableHLO programs declare no input/output aliasing
// (tf.aliasing_output or jax.buffer_donor appear nowhere in it), so whether
// XLA writes the new cache into the donated buffer is not guaranteed there;
// a donated buffer is at least released as soon as the step starts. Keys
// that are padding, not yet written, or outside a layer's sliding window
// are masked. Before a Generate call compiles or allocates anything, the
// cache's size 2·L·B·KV·S·head_dim·sizeof(dtype) is checked against the
// memory available (see Resource limits).
//
// # Non-finite values
//
// Every forward, prefill and decode graph also returns one int32: the first
// i with a NaN or an infinity in the residual stream after block i (after
// its steering), L for the logits, −1 for none; each flag is an in-graph
// reduction ¬∧isfinite(x), so a step hands the host one number more than
// its ids. Forward and Generate fail with ErrNonFinite naming that layer
// (NaN weights, a steering coefficient that overflows float32) instead of
// returning garbage ids.
//
// # Resource limits
//
// Load refuses, before reading any tensor, weights whose size in the
// compute dtype, Σ Π shape · sizeof(dtype), exceeds the memory available:
// MemAvailable in /proc/meminfo, or WithMemoryLimit; Generate does the
// same for its KV cache against what the limit leaves beside the weights.
// Sizes are computed with int64 overflow checks. Load warns (WithWarnings,
// default stderr) about checkpoint tensors the config does not read.
package model
