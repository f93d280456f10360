#!/usr/bin/env python3
"""Run Microsoft Presidio's pattern recognizers over the labelled fixture and
report per-kind precision, recall and throughput, scored exactly as
`cargo run --release -p frontline-pii --example evaluate` scores ours.

    pip install presidio-analyzer
    python3 scripts/compare_presidio.py fixtures/labelled.jsonl

No spaCy model is needed (none can be downloaded here): the recognizers are
called directly, without an NLP engine. That is Presidio at its fastest and
without its context-word boost, which needs the NLP engine's lemmas.
Kinds Presidio has no recognizer for (cn_id, ir_id, secret) are left out.

Scoring: a prediction is correct if it overlaps a labelled span of the same
kind; a labelled span is found if a prediction of the same kind overlaps it.
Presidio's overlapping results of one kind are merged first. Offsets are
converted from Python characters to UTF-8 bytes, as the fixture uses.
"""

import json
import logging
import sys
import time
from collections import defaultdict

from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    InAadhaarRecognizer,
    InPanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

# Presidio entity -> our kind.
KINDS = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip",
    "URL": "url",
    "US_SSN": "ssn",
    "IN_AADHAAR": "aadhaar",
    "IN_PAN": "pan",
    "UK_NINO": "nino",
}


def recognizers():
    out = [
        EmailRecognizer(),
        # The same regions our Redactor uses by default.
        PhoneRecognizer(supported_regions=("CN", "IR", "IN", "US", "GB", "DE")),
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UrlRecognizer(),
        UsSsnRecognizer(),
        InAadhaarRecognizer(),
        InPanRecognizer(),
        UkNinoRecognizer(),
    ]
    return out


def byte_offsets(text):
    """char index -> byte offset, for every index 0..=len(text)."""
    offs = [0] * (len(text) + 1)
    b = 0
    for i, ch in enumerate(text):
        offs[i] = b
        b += len(ch.encode("utf-8"))
    offs[len(text)] = b
    return offs


def merge(spans):
    """Merge overlapping (start, end) spans of one kind."""
    out = []
    for s, e in sorted(spans):
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "fixtures/labelled.jsonl"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    examples = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    recs = recognizers()
    ours = set(KINDS.values())
    # tldextract (used to validate URLs and emails) tries to download the
    # public suffix list once, fails offline and falls back to its bundled
    # copy: do that before timing, quietly.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    for r in recs:
        r.analyze("warm up a@example.com https://example.com +1 415 555 2671", r.supported_entities, None)

    results = []
    start = time.perf_counter()
    for _ in range(rounds):
        results = []
        for ex in examples:
            found = []
            for r in recs:
                found.extend(r.analyze(ex["text"], r.supported_entities, None))
            results.append(found)
    elapsed = time.perf_counter() - start
    nbytes = sum(len(ex["text"].encode("utf-8")) for ex in examples) * rounds

    counts = defaultdict(lambda: {"labelled": 0, "found": 0, "predicted": 0, "correct": 0})
    for ex, found in zip(examples, results):
        offs = byte_offsets(ex["text"])
        by_kind = defaultdict(list)
        for f in found:
            kind = KINDS.get(f.entity_type)
            if kind:
                by_kind[kind].append((offs[f.start], offs[f.end]))
        preds = [(k, s, e) for k, spans in by_kind.items() for s, e in merge(spans)]
        gold = [(g["kind"], g["start"], g["end"]) for g in ex["spans"] if g["kind"] in ours]
        for k, s, e in gold:
            c = counts[k]
            c["labelled"] += 1
            if any(pk == k and ps < e and s < pe for pk, ps, pe in preds):
                c["found"] += 1
        for k, s, e in preds:
            c = counts[k]
            c["predicted"] += 1
            if any(gk == k and gs < e and s < ge for gk, gs, ge in gold):
                c["correct"] += 1

    print(f"{'kind':<10} {'labelled':>9} {'predicted':>9} {'precision':>9} {'recall':>9}")
    for k in sorted(counts):
        c = counts[k]
        p = c["correct"] / c["predicted"] if c["predicted"] else 1.0
        r = c["found"] / c["labelled"] if c["labelled"] else 1.0
        print(f"{k:<10} {c['labelled']:>9} {c['predicted']:>9} {p:>9.3f} {r:>9.3f}")
    print(
        f"\n{len(examples)} messages, {nbytes / rounds / 1e6:.2f} MB x {rounds} rounds "
        f"in {elapsed:.2f} s: {nbytes / elapsed / 1e6:.3f} MB/s (one core)"
    )


if __name__ == "__main__":
    main()
