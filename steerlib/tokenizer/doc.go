// Package tokenizer is a pure-Go implementation of the Hugging Face
// tokenizer.json format, written to give exactly the ids of the Rust
// `tokenizers` crate for the BPE tokenizers used by current open models:
// byte-level BPE (GPT-2, Llama 3, Qwen, Mistral-Nemo, SmolLM2) and
// SentencePiece-style BPE with byte fallback (Llama 2, Mistral 7B, Gemma).
//
// The pipeline mirrors the reference implementation:
//
//  1. added tokens (special or not) that are not normalized are split out of
//     the raw text (leftmost-longest, honouring lstrip/rstrip/single_word);
//  2. each remaining segment is normalized (NFC, NFD, NFKC, NFKD, Lowercase,
//     Prepend, Replace, Strip, Sequence), and normalized added tokens are split
//     out of it;
//  3. pre-tokenizers split the segments (ByteLevel, Split with
//     lookahead-capable regular expressions via regexp2, Digits, Metaspace,
//     Whitespace, WhitespaceSplit, Sequence);
//  4. the BPE model maps each piece to ids (merge ranks, byte fallback,
//     unknown-token fusing, ignore_merges), with a per-tokenizer cache;
//  5. when special tokens are requested the post-processor adds them
//     (TemplateProcessing, Bert, Roberta, ByteLevel, Sequence).
//
// Decoding runs the decoder chain (ByteLevel, Metaspace, Replace,
// ByteFallback, Fuse, Strip, WordPiece, BPEDecoder, Sequence).
//
// Components the package does not implement make Load fail with an error that
// names them, rather than silently tokenizing differently.
package tokenizer
