"""Length-sorted batches: grouping, and results coming back in input order."""

from __future__ import annotations

import pytest

from sentiment.runtime.batching import length_sorted_batches, run_in_sorted_batches

pytestmark = pytest.mark.unit


def test_batches_group_similar_lengths_shortest_first() -> None:
    assert length_sorted_batches([5, 1, 3, 1, 9], 2) == [[1, 3], [2, 0], [4]]


def test_every_index_appears_once() -> None:
    lengths = [7, 3, 3, 8, 1, 2, 9, 4]
    batches = length_sorted_batches(lengths, 3)
    assert sorted(index for batch in batches for index in batch) == list(range(len(lengths)))
    assert all(len(batch) <= 3 for batch in batches)


def test_empty_and_bad_batch_size() -> None:
    assert length_sorted_batches([], 4) == []
    with pytest.raises(ValueError):
        length_sorted_batches([1], 0)


def test_rows_return_in_input_order_with_dynamic_padding() -> None:
    import torch

    from tests.sentiment.tiny_models import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    texts = ["best hotel ever the staff were wonderful", "ok", "kamala kokemus", "x " * 100]
    widths: list[int] = []

    def forward(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        assert not torch.is_grad_enabled()
        widths.append(input_ids.shape[1])
        # One row per text: its real token count, so the order can be checked.
        return attention_mask.sum(dim=1, keepdim=True).float()

    rows = run_in_sorted_batches(texts, tokenizer, forward, batch_size=2, device=torch.device("cpu"), max_length=16)
    assert rows[:, 0].tolist() == [9.0, 3.0, 4.0, 16.0]  # [CLS] + words + [SEP], the long one truncated
    assert widths == [4, 16]  # each batch padded only to its own longest text
