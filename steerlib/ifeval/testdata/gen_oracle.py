#!/usr/bin/env python3
"""Reference outputs for steerlib/ifeval tests (testdata/oracle.jsonl).

For each line of testdata/oracle_texts.txt (and a few multi-line texts built
from them) records, as computed by Python reference libraries:
  langdetect  - langdetect.detect_langs with DetectorFactory.seed = 0
                (python3-langdetect 1.0.9), or null on LangDetectException
  sentences   - nltk PunktSentenceTokenizer with the English parameters
                shipped by github.com/neurosnap/sentences (nltk 3.8)
  words       - nltk NLTKWordTokenizer on each of those sentences
Usage (Debian: apt-get install python3-nltk python3-langdetect):
  /usr/bin/python3 gen_oracle.py oracle_texts.txt PUNKT_ENGLISH.json oracle.jsonl
"""
import json
import sys
from collections import defaultdict

import langdetect
from langdetect import DetectorFactory
from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer


def main():
    texts_path, punkt_path, out_path = sys.argv[1:4]
    with open(punkt_path, encoding="utf-8") as f:
        d = json.load(f)
    params = PunktParameters()
    params.abbrev_types = set(d["AbbrevTypes"])
    params.collocations = set(tuple(k.split(",", 1)) for k in d["Collocations"])
    params.sent_starters = set(d["SentStarters"])
    params.ortho_context = defaultdict(int, d["OrthoContext"])
    punkt = PunktSentenceTokenizer(params)
    words = NLTKWordTokenizer()
    with open(texts_path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    texts = list(lines)
    texts.append("\n".join(lines[:6]))
    texts.append("\n\n".join(lines[38:]))
    texts.append(lines[0].upper() + "\n\n" + lines[1])
    DetectorFactory.seed = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for t in texts:
            try:
                langs = [[x.lang, x.prob] for x in langdetect.detect_langs(t)]
            except langdetect.LangDetectException:
                langs = None
            sents = punkt.tokenize(t)
            toks = [w for s in sents for w in words.tokenize(s)]
            out.write(json.dumps({"text": t, "langdetect": langs, "sentences": sents, "words": toks},
                                 ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
