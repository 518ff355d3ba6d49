// Test strings shared by the tokenizer oracle (gen_tokens.mjs). Hand-written
// cases cover the categories the Go tests must exercise; a seeded generator
// adds mixed strings built from the same fragments.

export const TOKENIZERS = ["qwen2_5", "qwen3", "llama3_2", "gpt2", "mistral_nemo", "gemma2", "llama2"];

export const HAND = [
  "",
  " ",
  "Hello world",
  "Hello, world! How are you today?",
  " leading space",
  "trailing space ",
  "  two leading spaces",
  "multiple   spaces   between    words",
  "tabs\tand\ttabs\t\t\tend",
  "line one\nline two\n\nline four\n",
  "\n\n\n",
  "windows\r\nline\r\nendings",
  "   \n  \t \n   mixed whitespace runs   ",
  "trailing newline spaces  \n  ",
  "I'm sure you'll see they've said it's John's, we'd won't can't",
  "I'M SHOUTING THAT IT'S MINE AND YOU'LL SEE",
  "The year 2024 had 365 days; 1234567890 and 3.14159, -42, 1e-9, 0x1F.",
  "Phone: +1 (555) 123-4567, price $1,299.99, 50% off",
  "١٢٣ ٤٥٦ Arabic-Indic digits and ½ ¾ ² superscripts",
  "func main() {\n\tfmt.Println(\"hello\")\n\tfor i := 0; i < 10; i++ {\n\t\tx += i\n\t}\n}",
  "def f(x):\n    return [y**2 for y in range(x) if y % 2 == 0]  # comment\n",
  "<div class=\"a\">&nbsp;</div><script>alert('x');</script>",
  "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
  "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
  "Héllo wörld, café naïve résumé façade Ångström",
  "e\u0301 combining accent vs \u00e9 precomposed, A\u030a and \u212b",
  "Straße, Œuvre, ﬁ ligature, Ǆ digraph, ǅ titlecase",
  "Привет, мир! Как дела?",
  "Γειά σου Κόσμε",
  "שלום עולם",
  "مرحبا بالعالم",
  "नमस्ते दुनिया",
  "สวัสดีชาวโลก",
  "你好，世界！今天天气很好。",
  "日本語のテキスト、カタカナとひらがな。漢字も。",
  "한국어 텍스트입니다.",
  "中文English混合text测试123",
  "😀 😃 😄 😁 emoji",
  "👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽 thumbs",
  "🤖🤖🤖🤖",
  "Symbols: © ® ™ § ¶ † ‡ • … ‰ ′ ″ € £ ¥ ₹",
  "Math: ∀x ∈ ℝ, ∃y: x² + y² ≤ 1 → ∫f(x)dx ≈ ∑",
  "Zero\u200bwidth\u200cjoiners\u200dand\ufeffBOM",
  "non\u00a0breaking\u00a0spaces and\u2003em\u2009thin\u3000ideographic",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "========================================",
  "----    ----    ____    ....    !!!!",
  "ababababababababababab abababab",
  "Supercalifragilisticexpialidocious antidisestablishmentarianism",
  "https://example.com/path?query=1&x=y#frag user@example.org",
  "C:\\Users\\name\\file.txt /usr/local/bin/go",
  "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
  "text <|endoftext|> more text",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
  "<s>[INST] What is 2+2? [/INST] 4</s>",
  "<s> <s>  </s> spaced specials",
  "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
  "<think>\nreasoning\n</think>\n\nanswer",
  "literal <unk> and <pad> and <mask>",
  "not special: <|im_start and im_end|> and < s > and <0x41>",
  "Ġ Ċ ▁ special-looking characters",
  "\u0000 control \u0001 chars \u001b[31m ansi \u007f",
  "Write a 300+ word essay about the history of Rome. Do not use any commas.",
  "Answer with at least 3 bullet points. Use the markdown bullet points such as:\n* This is point 1.\n* This is point 2",
  "Your ENTIRE response should be in French language, no other language is allowed.",
  "Wrap your entire response with double quotation marks.",
];

// Fragments used by the seeded generator.
const FRAGS = [
  "the", " the", "The", " quick", " brown", "fox", " jumps", "over", " lazy", " dog", "'s", "'ll", "'RE", "n't",
  " ", "  ", "   ", "\t", "\n", "\n\n", " \n", "\r\n", "\u00a0", "\u3000",
  "0", "7", "42", "123", "2024", "99999", "3.14", "1,000", "½",
  ".", ",", "!", "?", "...", "--", "()", "[]", "{}", "\"", "'", "`", "#", "@", "$", "%", "&", "*", "/", "\\", "_", "-", "=",
  "é", "ñ", "ü", "ç", "Ω", "ж", "щ", "ß", "ø", "e\u0301",
  "你", "好", "世界", "日本", "語", "한", "국", "ก", "ไ", "अ", "ि", "ب", "ש",
  "😀", "🤖", "👍🏽", "❤️", "🇫🇷", "👨‍💻", "✨",
  "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<s>", "</s>", "<bos>", "<eos>", "<|eot_id|>", "[INST]", "[/INST]", "<think>",
  "func", "(x)", " {", "}", " return", " := ", "==", "->", "=>", "::", "//", "/*", "*/",
];

function mulberry32(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns n mixed strings generated from FRAGS with a fixed seed. */
export function generated(n, seed = 20250115) {
  const rnd = mulberry32(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rnd() * 24);
    let s = "";
    for (let j = 0; j < len; j++) s += FRAGS[Math.floor(rnd() * FRAGS.length)];
    out.push(s);
  }
  return out;
}

/** All test strings, hand-written first. */
export function allCases() {
  return HAND.concat(generated(300));
}
