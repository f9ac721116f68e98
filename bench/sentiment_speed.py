#!/usr/bin/env python
"""Sentiment scoring speed: a naive per-text `transformers.pipeline` loop against Kaiku's scorer.

    python bench/sentiment_speed.py              # 2,000 texts, every mode
    python bench/sentiment_speed.py --n 300      # a quicker look

The texts: XED and UCI lines from the training data folder (`--data`, or KAIKU_SENTIMENT_DATA; laid out as
docs/sentiment.md describes), Finnish and English alternating,
lines of one language joined until a text has about 40 tokens (the e5 tokenizer's count).

The model for the comparison: a `BertForSequenceClassification` the bench builds locally from the
converted multilingual-e5-small encoder (the default model's, so no download) with a seeded
random 3-label head, saved with its tokenizer to a temporary folder. Both contenders load that
same folder:
  naive   `transformers.pipeline("text-classification")` called once per text (top_k=None);
  kaiku   `load_classifier(folder)` + `score_batch`: length-sorted batches, dynamic padding,
          `inference_mode`, threads = available cores;
plus Kaiku's scorer on the default model (e5 + polarity head). A Kaiku mode runs in the precision
Kaiku would pick (`auto`: bfloat16 where the CPU computes it natively, else float32), or in the one
its name ends in (`-float32`). Every mode runs in its own subprocess, so the peak RSS printed is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(os.environ["KAIKU_SENTIMENT_DATA"]) if "KAIKU_SENTIMENT_DATA" in os.environ else None
TARGET_TOKENS = 40
MODES = ("naive", "kaiku", "kaiku-float32", "default", "default-float32")


def build_texts(data: Path, n: int, tokenizer) -> list[str]:
    """`n` texts of about TARGET_TOKENS tokens, Finnish and English alternating, deterministic."""
    from sentiment.training.data import load_examples

    by_lang: dict[str, list[str]] = {"fi": [], "en": []}
    for example in load_examples(data):
        by_lang[example.lang].append(example.text)
    cursors = {"fi": 0, "en": 0}
    texts: list[str] = []
    while len(texts) < n:
        lang = ("fi", "en")[len(texts) % 2]
        parts: list[str] = []
        while len(tokenizer(" ".join(parts))["input_ids"]) < TARGET_TOKENS:
            lines = by_lang[lang]
            parts.append(lines[cursors[lang] % len(lines)])
            cursors[lang] += 1
        texts.append(" ".join(parts))
    return texts


def build_model(cache: Path, folder: Path) -> None:
    """Sequence-classification model from the converted e5 encoder, random 3-label head, saved with its tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    from sentiment.conversion.e5_convert import ensure_converted_encoder

    encoder_dir = ensure_converted_encoder(cache)
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(
        encoder_dir,
        num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(encoder_dir).save_pretrained(folder)


def run_mode(mode: str, folder: Path, cache: Path, texts_file: Path, threads: int | None) -> dict:
    """One mode in this process: load, warm up on a few texts, then time scoring every text."""
    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    started = time.perf_counter()
    if mode == "naive":
        import torch
        from transformers import pipeline

        if threads:
            torch.set_num_threads(threads)
        classify = pipeline("text-classification", model=str(folder), tokenizer=str(folder), device=-1, top_k=None)
        precision = "float32"  # the pipeline's default

        def score_all(batch: list[str]) -> None:
            for text in batch:  # the naive way: one call per text
                classify(text, truncation=True)

    else:
        from core.scoring import score_batch
        from sentiment.loader import load_classifier

        spec = "default" if mode.startswith("default") else str(folder)
        classifier = load_classifier(spec, cache_dir=cache, threads=threads, precision=mode.partition("-")[2] or "auto")
        precision = str(getattr(classifier, "precision", "unknown"))  # both of Kaiku's classifiers have it

        def score_all(batch: list[str]) -> None:
            score_batch(classifier, batch)

    load_seconds = time.perf_counter() - started
    score_all(texts[:16])  # warm-up: first-call allocations are not throughput
    started, cpu_started = time.perf_counter(), time.process_time()
    score_all(texts)
    seconds = time.perf_counter() - started
    # On a shared machine wall time follows the other processes' load; the process's own CPU seconds much less so.
    cpu_seconds = time.process_time() - cpu_started
    import torch

    return {
        "mode": mode,
        "texts": len(texts),
        "seconds": seconds,
        "per_second": len(texts) / seconds,
        "cpu_seconds": cpu_seconds,
        "per_cpu_second": len(texts) / cpu_seconds,
        "load_seconds": load_seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "precision": precision,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="texts to score")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, required=DEFAULT_DATA is None)
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: available cores)")
    parser.add_argument("--cache", type=Path, default=None, help="model cache (default: Kaiku's)")
    parser.add_argument("--_run", help=argparse.SUPPRESS)
    parser.add_argument("--_folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--_texts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cache is None:
        from core.settings import get_settings

        args.cache = get_settings().resolved_model_cache_dir

    if args._run:  # child process: one mode, result as JSON on the last line
        print(json.dumps(run_mode(args._run, args._folder, args.cache, args._texts, args.threads)))
        return 0

    from sentiment.runtime.hardware import available_cores

    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {', '.join(MODES)}")
    load = os.getloadavg()[0]
    print(f"cores available: {available_cores()} (os.cpu_count {os.cpu_count()}), load average {load:.1f}")
    with tempfile.TemporaryDirectory(prefix="kaiku-bench-") as temporary:
        folder = Path(temporary) / "e5-small-seqcls"
        build_model(args.cache, folder)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder)
        texts = build_texts(args.data, args.n, tokenizer)
        lengths = sorted(len(tokenizer(text)["input_ids"]) for text in texts)
        print(
            f"{len(texts)} texts, fi/en alternating; tokens: median {lengths[len(lengths) // 2]}, "
            f"mean {sum(lengths) / len(lengths):.1f}, max {lengths[-1]}"
        )
        texts_file = Path(temporary) / "texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        results = {}
        for mode in modes:
            command = [sys.executable, __file__, "--_run", mode, "--_folder", str(folder), "--_texts", str(texts_file)]
            command += ["--data", str(args.data), "--cache", str(args.cache)] + (
                ["--threads", str(args.threads)] if args.threads else []
            )
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{mode}: failed\n{done.stderr[-2000:]}")
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results[mode] = result
            print(
                f"{mode:13} {result['per_second']:7.1f} mentions/s  ({result['seconds']:.1f} s; "
                f"{result['per_cpu_second']:.1f} per CPU second, {result['cpu_seconds']:.1f} CPU s; "
                f"load {result['load_seconds']:.1f} s, peak RSS {result['peak_rss_mib']:.0f} MiB, "
                f"{result['threads']} threads, {result['precision']}; load average {os.getloadavg()[0]:.1f})"
            )
    if "naive" in results:
        # The pipeline runs in float32 (its default): kaiku-float32 is the like-for-like comparison,
        # kaiku (auto) what Kaiku does by default on this machine.
        naive = results["naive"]
        for mode, meaning in (("kaiku-float32", "like for like, both float32"), ("kaiku", "Kaiku's auto precision")):
            if mode in results:
                ratio = results[mode]["per_second"] / naive["per_second"]
                cpu_ratio = results[mode]["per_cpu_second"] / naive["per_cpu_second"]
                print(
                    f"ratio {mode} / naive pipeline loop: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU time "
                    f"({meaning}: {results[mode]['precision']})"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
