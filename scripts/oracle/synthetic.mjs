// Variants of the pinned tokenizers that exercise components the seven real
// tokenizers do not use (Metaspace, Digits, Punctuation, Whitespace, Split
// behaviours, Lowercase/NFKC/Strip/regex Replace, added-token options,
// Roberta post-processing, extra decoders). Each variant names a base package
// and the tokenizer.json keys it replaces; "add_tokens" are appended to
// added_tokens with the next free ids. Only these patches are committed.
export const VARIANTS = [
  {
    name: "llama2_metaspace_first",
    base: "llama2",
    set: {
      normalizer: null,
      pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true },
      decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: true },
    },
  },
  {
    name: "llama2_metaspace_always_nosplit",
    base: "llama2",
    set: {
      normalizer: null,
      pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: false },
      decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: false },
    },
  },
  {
    name: "llama2_digits_regex_replace",
    base: "llama2",
    set: {
      normalizer: {
        type: "Sequence",
        normalizers: [
          { type: "Replace", pattern: { Regex: " {2,}" }, content: " " },
          { type: "Prepend", prepend: "▁" },
          { type: "Replace", pattern: { String: " " }, content: "▁" },
        ],
      },
      pre_tokenizer: { type: "Digits", individual_digits: true },
    },
  },
  {
    name: "gpt2_lower_nfkc_punct",
    base: "gpt2",
    set: {
      normalizer: { type: "Sequence", normalizers: [{ type: "NFKC" }, { type: "Lowercase" }, { type: "Strip", strip_left: true, strip_right: true }] },
      pre_tokenizer: {
        type: "Sequence",
        pretokenizers: [
          { type: "Punctuation", behavior: "Isolated" },
          { type: "Digits", individual_digits: false },
          { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
        ],
      },
      post_processor: { type: "RobertaProcessing", sep: ["<|endoftext|>", 50256], cls: ["<|endoftext|>", 50256], trim_offsets: true, add_prefix_space: true },
    },
  },
  {
    name: "gpt2_whitespace_nfd",
    base: "gpt2",
    set: {
      normalizer: { type: "NFD" },
      pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Whitespace" }, { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] },
      decoder: { type: "Sequence", decoders: [{ type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true }, { type: "Strip", content: "!", start: 2, stop: 0 }] },
    },
  },
  {
    name: "gpt2_whitespacesplit_nfkd",
    base: "gpt2",
    set: {
      normalizer: { type: "NFKD" },
      pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: false }] },
    },
  },
  ...["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"].flatMap((behavior) =>
    [false, true].map((invert) => ({
      name: `gpt2_split_${behavior}_${invert ? "invert" : "plain"}`,
      base: "gpt2",
      set: {
        pre_tokenizer: {
          type: "Sequence",
          pretokenizers: [
            { type: "Split", pattern: { Regex: "[ \\-]+|\\d" }, behavior, invert },
            { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
          ],
        },
      },
    })),
  ),
  {
    name: "qwen2_5_added_options",
    base: "qwen2_5",
    add_tokens: [
      { content: "<tag>", single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
      { content: "</tag>", single_word: false, lstrip: false, rstrip: true, normalized: false, special: true },
      { content: "world", single_word: true, lstrip: false, rstrip: false, normalized: false, special: false },
      { content: "café", single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
      { content: "[MASK]", single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
      { content: "<|im", single_word: false, lstrip: false, rstrip: false, normalized: false, special: false },
      { content: "zqxjw", single_word: true, lstrip: false, rstrip: false, normalized: false, special: false },
    ],
  },
  {
    name: "llama2_added_normalized",
    base: "llama2",
    add_tokens: [
      { content: " spaced token", single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
      { content: "<sep>", single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
    ],
  },
];

/** Applies a variant to a parsed base tokenizer.json (mutates and returns it). */
export function applyVariant(doc, v) {
  for (const [k, val] of Object.entries(v.set || {})) doc[k] = val;
  if (v.add_tokens) {
    let next = Object.values(doc.model.vocab).reduce((a, b) => Math.max(a, b), 0);
    for (const t of doc.added_tokens) next = Math.max(next, t.id);
    for (const t of v.add_tokens) doc.added_tokens.push({ id: ++next, ...t });
  }
  return doc;
}
