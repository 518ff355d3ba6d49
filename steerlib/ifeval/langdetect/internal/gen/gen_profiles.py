#!/usr/bin/env python3
"""Regenerate steerlib/ifeval/langdetect/profiles.json.gz.

Reads the language profiles and normalisation tables shipped with the Python
`langdetect` 1.0.9 package (Debian: `apt-get install python3-langdetect`; data
by Cybozu Labs / N. Shuyo, Apache-2.0) and writes one compact gzipped JSON file
that the Go package embeds:

  {"langs": [...], "n_words": [[n1,n2,n3],...],
   "grams": {"ngram": [[lang_index, count], ...], ...},
   "latin1_exclude": "...", "vi_to_normalize": "...", "vi_dmark": "...",
   "vi_normalized": ["...", ...], "kanji_classes": ["...", ...]}

Usage: /usr/bin/python3 gen_profiles.py [LANGDETECT_DIR] OUT.json.gz
"""
import gzip
import json
import os
import sys


def load_messages(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            out[key] = value.encode().decode("unicode_escape")
    return out


def main():
    if len(sys.argv) == 3:
        root, out_path = sys.argv[1], sys.argv[2]
    else:
        import langdetect  # noqa: F401  (only to locate the package)
        root = os.path.dirname(langdetect.__file__)
        out_path = sys.argv[1]
    prof_dir = os.path.join(root, "profiles")
    names = sorted(os.listdir(prof_dir))
    langs, n_words, grams = [], [], {}
    for idx, name in enumerate(names):
        with open(os.path.join(prof_dir, name), encoding="utf-8") as f:
            p = json.load(f)
        langs.append(p["name"])
        n_words.append(p["n_words"])
        for g, c in sorted(p["freq"].items()):
            grams.setdefault(g, []).append([idx, c])
    msgs = load_messages(os.path.join(root, "utils", "messages.properties"))
    kanji_keys = [k for k in msgs if k.startswith("NGram.KANJI_")]  # file order
    doc = {
        "source": "python langdetect 1.0.9 profiles (Cybozu Labs, N. Shuyo; Apache-2.0)",
        "langs": langs,
        "n_words": n_words,
        "grams": dict(sorted(grams.items())),
        "latin1_exclude": msgs["NGram.LATIN1_EXCLUDE"],
        "vi_to_normalize": msgs["TO_NORMALIZE_VI_CHARS"],
        "vi_dmark": msgs["DMARK_CLASS"],
        "vi_normalized": [msgs["NORMALIZED_VI_CHARS_" + s] for s in ("0300", "0301", "0303", "0309", "0323")],
        "kanji_classes": [msgs[k] for k in kanji_keys],
    }
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with open(out_path, "wb") as f:
        f.write(gzip.compress(data, 9, mtime=0))


if __name__ == "__main__":
    main()
