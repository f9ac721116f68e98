#!/usr/bin/env python
"""Where Kaiku's float32 scoring time goes, and whether a scorer setting buys speed, in process CPU seconds.

    python -m bench.sentiment_speed_probe --data DATA                      # 300 texts, 1 thread
    python -m bench.sentiment_speed_probe --data DATA --batch-sizes 8,32,64 --attention sdpa,eager

Same texts and model as bench/sentiment_speed.py (its `build_texts` and `build_model`). CPU seconds of this
process, not wall time: on a shared machine they move much less with the other processes' load. Prints
(1) the per-text pipeline loop and Kaiku's scorer with each batch size and attention implementation,
(2) the scorer's time per torch operator (torch.profiler), and (3) the float32 matrix-multiply rate of one
e5 feed-forward layer for a whole padded batch against one text: how much batching can buy at all.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.sentiment_speed import DEFAULT_DATA, build_model, build_texts


def cpu_seconds(score, texts: list[str]) -> float:
    score(texts[:16])  # warm-up
    started = time.process_time()
    score(texts)
    return time.process_time() - started


def gemm_rate(rows: int, repeats: int) -> float:
    """GFLOP per CPU second of x @ W.T + b for e5-small's first feed-forward matrix (384 -> 1,536)."""
    import torch

    x, weight, bias = torch.randn(rows, 384), torch.randn(1536, 384), torch.randn(1536)
    torch.addmm(bias, x, weight.t())
    started = time.process_time()
    for _ in range(repeats):
        torch.addmm(bias, x, weight.t())
    return 2 * rows * 384 * 1536 * repeats / (time.process_time() - started) / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, required=DEFAULT_DATA is None)
    parser.add_argument("--n", type=int, default=300, help="texts to score")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: least disturbed by other load)")
    parser.add_argument("--batch-sizes", default="8,32,64,128")
    parser.add_argument("--attention", default="sdpa,eager", help="transformers attention implementations to try")
    parser.add_argument("--cache", type=Path, default=None, help="model cache (default: Kaiku's)")
    args = parser.parse_args()
    import torch
    from transformers import AutoTokenizer, pipeline

    from core.settings import get_settings
    from sentiment.models.transformers_classifier import TransformersClassifier

    torch.set_num_threads(args.threads)
    cache = args.cache or get_settings().resolved_model_cache_dir
    print(f"{args.threads} torch thread(s), load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="kaiku-probe-") as temporary:
        folder = Path(temporary) / "e5-small-seqcls"
        build_model(cache, folder)
        texts = build_texts(args.data, args.n, AutoTokenizer.from_pretrained(folder))
        print(f"{len(texts)} texts, as bench/sentiment_speed.py builds them (about 45 tokens each)")

        classify = pipeline("text-classification", model=str(folder), tokenizer=str(folder), device=-1, top_k=None)
        naive = cpu_seconds(lambda batch: [classify(text, truncation=True) for text in batch], texts)
        print(f"naive pipeline loop               {naive:6.2f} CPU s  {len(texts) / naive:5.1f} texts per CPU s")
        for attention in args.attention.split(","):
            for batch_size in map(int, args.batch_sizes.split(",")):
                scorer = TransformersClassifier(str(folder), batch_size=batch_size, precision="float32")
                scorer.model.set_attn_implementation(attention)
                seconds = cpu_seconds(scorer.predict, texts)
                print(
                    f"Kaiku, batch {batch_size:3}, attention {attention:5} {seconds:6.2f} CPU s  "
                    f"{len(texts) / seconds:5.1f} texts per CPU s  ({naive / seconds:.2f}x the loop)"
                )

        from torch.profiler import ProfilerActivity, profile

        scorer = TransformersClassifier(str(folder), precision="float32")
        scorer.predict(texts[:16])
        with profile(activities=[ProfilerActivity.CPU]) as profiled:
            scorer.predict(texts)
        events = sorted(profiled.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
        total = sum(event.self_cpu_time_total for event in events)
        print(
            "Kaiku's scorer (batch 32), share of time per operator: "
            + ", ".join(f"{event.key} {event.self_cpu_time_total / total:.0%}" for event in events[:5])
        )
    tokens = 45  # the texts' median length
    print(
        f"float32 matmul 384 -> 1,536: {gemm_rate(32 * tokens, 40):.1f} GFLOP per CPU s for a batch of 32 texts, "
        f"{gemm_rate(tokens, 40 * 32):.1f} for one text of {tokens} tokens (load average {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
