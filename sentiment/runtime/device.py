"""Resolve the configured device name once, with a clear error when it is not usable here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment.errors import SentimentError

# torch, transformers and tokenizers take seconds to import: the functions that use them import them.
if TYPE_CHECKING:
    import torch


def resolve_device(device: str) -> torch.device:
    import torch

    try:
        resolved = torch.device(device)
        torch.empty(0, device=resolved)  # fails now, not at the first batch, when the device is absent
    except (RuntimeError, AssertionError) as exc:
        raise SentimentError(f"device {device!r} is not usable: {exc}") from exc
    return resolved
