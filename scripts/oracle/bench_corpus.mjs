// Writes the benchmark corpus (a JSON array of strings) to the path given as
// argv[2]: every prompt of the shared IFEval file when ../shared is present,
// plus the tokenizer test cases (unicode, emoji, CJK, code, whitespace).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { allCases } from "./cases.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const shared = join(here, "../../../shared/data/llm-steer-instruct/ifeval_wo_instructions.jsonl");
let docs = [];
if (existsSync(shared)) {
  for (const line of readFileSync(shared, "utf8").split("\n")) {
    if (line.trim()) docs.push(JSON.parse(line).prompt);
  }
} else {
  console.error("bench_corpus: shared IFEval data not found, using test cases only");
}
docs = docs.concat(allCases().filter((s) => s.length > 0));
writeFileSync(process.argv[2], JSON.stringify(docs));
const bytes = docs.reduce((n, s) => n + Buffer.byteLength(s), 0);
console.error(`bench_corpus: ${docs.length} documents, ${bytes} bytes`);
