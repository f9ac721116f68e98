"""Length-sorted batches with dynamic padding: similar lengths share a batch, so little compute goes to padding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

# torch, transformers and tokenizers take seconds to import: the functions that use them import them.
if TYPE_CHECKING:
    import torch

MAX_TOKENS = 512


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of at most `batch_size`, shortest first; ties keep input order."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def run_in_sorted_batches(
    texts: Sequence[str],
    tokenizer: Any,
    forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    batch_size: int,
    device: torch.device,
    max_length: int = MAX_TOKENS,
) -> torch.Tensor:
    """Tokenise once, run `forward(input_ids, attention_mask)` per padded batch, return rows in input order.

    Texts longer than `max_length` tokens are truncated (the model's position limit).
    Runs under `torch.inference_mode()`: no autograd bookkeeping for scoring.
    """
    import torch

    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    rows: list[torch.Tensor | None] = [None] * len(encoded)
    with torch.inference_mode():
        for batch in length_sorted_batches([len(ids) for ids in encoded], batch_size):
            width = max(len(encoded[index]) for index in batch)
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, index in enumerate(batch):
                ids = encoded[index]
                input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
                attention_mask[row, : len(ids)] = 1
            output = forward(input_ids.to(device), attention_mask.to(device)).float().cpu()
            for row, index in enumerate(batch):
                rows[index] = output[row]
    if not rows:
        return torch.empty((0, 0))
    return torch.stack([row for row in rows if row is not None])
