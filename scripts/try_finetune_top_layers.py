#!/usr/bin/env python
"""Does fine-tuning e5-small's top encoder layers beat the committed frozen-encoder head? A measurement.

    python scripts/try_finetune_top_layers.py [--layers 2] [--epochs 3] [--limit 0]

Same data, split, seed and validation score (mean of Finnish and English macro-F1) as
`scripts/train_sentiment_head.py`, so the figures compare with its candidates. To fit a 2-core CPU, the
input of the top `--layers` layers is computed once for every text (the lower layers frozen, under
inference_mode, in bfloat16 where the CPU computes it natively) and kept in memory; then

  frozen      the top layers stay as they are and the head (MLP 256, dropout 0.3, as v2) is trained on
              their pooled output by the training script's own `train_head`: what the committed head does;
  fine-tuned  starting from that head, the top layers are trained with it (AdamW, lr 2e-5 for the
              layers, 1e-4 for the head), keeping the epoch with the best validation score.

Prints both validation scores per language and the time taken. Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from train_sentiment_head import (  # noqa: E402 - the training script's own split, scores and head training
    CANDIDATES,
    f1_scores,
    slices,
    stratified_split,
    train_head,
)

from core.polarity import LABELS  # noqa: E402
from sentiment.conversion.e5_convert import ensure_converted_encoder  # noqa: E402
from sentiment.models.e5_encoder import QUERY_PREFIX, E5Encoder  # noqa: E402
from sentiment.runtime.hardware import native_bfloat16  # noqa: E402
from sentiment.training.data import load_examples  # noqa: E402

HEAD = CANDIDATES[4]  # MLP 256, dropout 0.3: v2's head


def lower_layer_states(encoder: E5Encoder, texts: list[str], top: int, batch_size: int = 64) -> list[torch.Tensor]:
    """Per text, the hidden states that enter the top `top` layers (float32, unpadded)."""
    model = encoder.model
    fast = native_bfloat16(torch.device("cpu"))
    tokens = encoder.tokenizer([QUERY_PREFIX + text for text in texts], truncation=True, max_length=512)["input_ids"]
    order = sorted(range(len(tokens)), key=lambda index: len(tokens[index]))
    states: list[torch.Tensor | None] = [None] * len(tokens)
    keep = len(model.encoder.layer) - top
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=fast):
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            ids, mask = pad([tokens[index] for index in batch], encoder.tokenizer.pad_token_id)
            hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[keep]
            for row, index in enumerate(batch):
                states[index] = hidden[row, : int(mask[row].sum())].float().clone()
    return [state for state in states if state is not None]


def pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(row) for row in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for index, row in enumerate(rows):
        ids[index, : len(row)] = torch.tensor(row)
        mask[index, : len(row)] = 1
    return ids, mask


class TopAndHead(torch.nn.Module):
    """The top encoder layers, mean pooling and L2 norm as E5Encoder does, and the polarity head."""

    def __init__(self, encoder: E5Encoder, top: int, head: torch.nn.Module) -> None:
        super().__init__()
        self.bert = encoder.model
        self.layers = torch.nn.ModuleList(copy.deepcopy(list(encoder.model.encoder.layer[-top:])))
        self.head = head

    def pooled(self, states: list[torch.Tensor]) -> torch.Tensor:
        width = max(len(state) for state in states)
        hidden = torch.zeros((len(states), width, states[0].shape[1]))
        mask = torch.zeros((len(states), width), dtype=torch.long)
        for index, state in enumerate(states):
            hidden[index, : len(state)] = state
            mask[index, : len(state)] = 1
        attention, _ = self.bert._create_attention_masks(
            attention_mask=mask,
            encoder_attention_mask=None,
            embedding_output=hidden,
            encoder_hidden_states=None,
            past_key_values=None,
        )
        for layer in self.layers:
            hidden = layer(hidden, attention)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        weights = mask.unsqueeze(-1).float()
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def forward(self, states: list[torch.Tensor]) -> torch.Tensor:
        return self.head(self.pooled(states))


def batches(indices: list[int], size: int, generator: torch.Generator | None = None) -> list[list[int]]:
    order = torch.randperm(len(indices), generator=generator).tolist() if generator else range(len(indices))
    ordered = [indices[position] for position in order]
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def probabilities(model: TopAndHead, states: list[torch.Tensor], indices: list[int]) -> np.ndarray:
    model.eval()
    rows = []
    with torch.inference_mode():
        for batch in batches(indices, 128):
            rows.append(torch.softmax(model([states[i] for i in batch]), dim=-1))
    return torch.cat(rows).numpy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with xed/ and uci/ (docs/sentiment.md)")
    parser.add_argument("--layers", type=int, default=2, help="top encoder layers to fine-tune")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="use only this many training texts (0: all)")
    parser.add_argument("--seed", type=int, default=20201208)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    from core.settings import get_settings

    examples = load_examples(args.data)
    rng = np.random.default_rng(args.seed)
    rest, _test = stratified_split(examples, 0.15, rng)  # the held-out test split is never touched here
    train, validation = stratified_split(examples, 0.15, rng, among=rest)
    if args.limit:
        train = sorted(np.random.default_rng(args.seed).choice(train, args.limit, replace=False).tolist())
    encoder = E5Encoder(ensure_converted_encoder(get_settings().resolved_model_cache_dir))
    used = sorted(set(train) | set(validation))
    started = time.perf_counter()
    computed = lower_layer_states(encoder, [examples[i].text for i in used], args.layers)
    states: list[torch.Tensor] = [torch.empty(0)] * len(examples)
    for index, state in zip(used, computed, strict=True):
        states[index] = state
    print(
        f"lower layers for {len(used)} texts: {time.perf_counter() - started:.0f} s; {torch.get_num_threads()} threads"
    )

    labels = torch.tensor([LABELS.index(example.label) for example in examples])
    counts = torch.bincount(labels[train], minlength=len(LABELS)).float()
    loss_fn = torch.nn.CrossEntropyLoss(weight=counts.sum() / (len(LABELS) * counts.clamp(min=1)))
    validation_slices = {name: p for name, p in slices(examples, validation).items() if "/" not in name}
    gold = labels[validation].numpy()

    def scores(model: TopAndHead) -> dict[str, float]:
        predicted = probabilities(model, states, validation).argmax(axis=1)
        by_lang = {name: f1_scores(gold[p], predicted[p])["macro_f1"] for name, p in validation_slices.items()}
        return {**by_lang, "mean": float(np.mean(list(by_lang.values())))}

    frozen = TopAndHead(encoder, args.layers, torch.nn.Identity()).eval()
    with torch.inference_mode():
        pooled_train = torch.cat([frozen.pooled([states[i] for i in batch]) for batch in batches(train, 256)])
        pooled_validation = torch.cat([frozen.pooled([states[i] for i in batch]) for batch in batches(validation, 256)])

    def mean_score(probs: np.ndarray) -> float:
        predicted = probs.argmax(axis=1)
        return float(np.mean([f1_scores(gold[p], predicted[p])["macro_f1"] for p in validation_slices.values()]))

    started = time.perf_counter()
    head, score, epoch = train_head(HEAD, pooled_train, labels[train], pooled_validation, mean_score, args.seed)
    frozen.head = head
    print(f"frozen: validation macro-F1 {scores(frozen)} at epoch {epoch} ({time.perf_counter() - started:.0f} s)")

    generator = torch.Generator().manual_seed(args.seed)
    model = TopAndHead(encoder, args.layers, copy.deepcopy(head).train())  # from the frozen head's optimum
    optimiser = torch.optim.AdamW(
        [
            {"params": model.head.parameters(), "lr": HEAD.lr / 10, "weight_decay": HEAD.weight_decay},
            {"params": model.layers.parameters(), "lr": 2e-5, "weight_decay": 0.01},
        ]
    )
    best, best_epoch = {"mean": -1.0}, 0
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch in batches(train, 32, generator):
            optimiser.zero_grad()
            loss_fn(model([states[i] for i in batch]), labels[batch]).backward()
            optimiser.step()
        result = scores(model)
        if result["mean"] > best["mean"]:
            best, best_epoch = result, epoch
        print(f"  fine-tuned epoch {epoch}: {result} ({time.perf_counter() - started:.0f} s)", flush=True)
    print(f"fine-tuned: best validation macro-F1 {best} at epoch {best_epoch}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
