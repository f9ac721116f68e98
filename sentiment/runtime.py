"""How scoring uses the CPU: torch's thread count and optional int8 dynamic quantisation."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sentiment.base import SentimentError

if TYPE_CHECKING:
    import torch


def available_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure_threads(threads: int | None) -> int:
    """Set torch's intra-op threads (process-wide) to `threads`, or to the available cores; returns the count.

    torch's default can exceed the cores a container grants, and oversubscribed threads
    spin against each other: scoring gets slower, not faster.
    """
    import torch

    if threads is not None and threads < 1:
        raise SentimentError(f"torch threads must be at least 1, got {threads}")
    count = threads or available_cores()
    torch.set_num_threads(count)
    return count


def quantize_linear(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """int8 dynamic quantisation of every Linear layer (weights int8, activations quantised per batch); CPU only."""
    import torch

    if device.type != "cpu":
        raise SentimentError(f"int8 dynamic quantisation runs on the CPU only, not on {device}")
    return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
