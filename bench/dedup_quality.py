"""How well crawler/dedup.py tells copies from different texts, and how fast it signs them.

    python bench/dedup_quality.py [--pairs 300] [--seed 1]

Texts are synthetic reviews of N words drawn from a 3,000-word vocabulary of random 2-10 letter words with
Finnish letter frequencies (Zipf-weighted, so common words repeat as in real text). For each length it prints,
at the shipped threshold:
- recall on edited copies: one word replaced; two words replaced; one word inserted plus a signature line
  appended ("Lähetetty iPhonesta"); the copy with its last sentence (a fifth of the words) cut off;
- false positives among unrelated pairs of the same length and among pairs that share the first half;
- whether LSH would have shown the pair (shared band) at all;
- signing speed (texts per second) on one core.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from crawler.dedup import DEFAULT_THRESHOLD, signature

LETTERS = "aaaaaiiiiitttttnnnneeeessssllllkkkkuuuuääoooommrrvvjjhhyyppddö"  # roughly Finnish letter frequencies


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    return ["".join(rng.choice(LETTERS) for _ in range(rng.randint(2, 10))) for _ in range(size)]


def text_of(rng: random.Random, vocab: list[str], n: int) -> list[str]:
    return rng.choices(vocab, weights=[1 / (rank + 1) for rank in range(len(vocab))], k=n)


def is_near(a: list[str], b: list[str]) -> tuple[bool, bool]:
    sa, sb = signature(" ".join(a)), signature(" ".join(b))
    if sa is None or sb is None:
        return False, False
    shares_band = bool(set(sa.bands()) & set(sb.bands()))
    return shares_band and sa.similarity(sb) >= DEFAULT_THRESHOLD, shares_band


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    vocab = vocabulary(rng)
    print(f"cores: {os.cpu_count()}, threshold {DEFAULT_THRESHOLD}, pairs per cell {args.pairs}")
    print("words | 1 replaced | 2 replaced | insert+sig line | last 20% cut | unrelated FP | same first half FP")
    for n in (15, 30, 60, 120):
        counts = dict.fromkeys(("one", "two", "sig", "cut", "other", "half"), 0)
        for _ in range(args.pairs):
            a = text_of(rng, vocab, n)
            one = list(a)
            one[rng.randrange(n)] = rng.choice(vocab)
            two = list(one)
            two[rng.randrange(n)] = rng.choice(vocab)
            sig = list(a)
            sig.insert(rng.randrange(n), rng.choice(vocab))
            sig += ["lähetetty", "iphonesta"]
            cut = a[: n - n // 5]
            other = text_of(rng, vocab, n)
            half = a[: n // 2] + text_of(rng, vocab, n - n // 2)
            for key, b in (("one", one), ("two", two), ("sig", sig), ("cut", cut), ("other", other), ("half", half)):
                counts[key] += is_near(a, b)[0]
        pct = {key: f"{100 * value / args.pairs:5.1f}%" for key, value in counts.items()}
        print(
            f"{n:5d} | {pct['one']:>10} | {pct['two']:>10} | {pct['sig']:>15} | {pct['cut']:>12} | "
            f"{pct['other']:>12} | {pct['half']:>18}"
        )
    texts = [" ".join(text_of(rng, vocab, 60)) for _ in range(2000)]
    started = time.perf_counter()
    for text in texts:
        signature(text)
    elapsed = time.perf_counter() - started
    per_text_ms = 1000 * elapsed / len(texts)
    print(f"signing: {len(texts) / elapsed:,.0f} texts/s (60 words each), {per_text_ms:.2f} ms per text")


if __name__ == "__main__":
    main()
