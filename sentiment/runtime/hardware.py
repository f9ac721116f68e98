"""How scoring uses the hardware: torch's thread count and the number format (float32, bfloat16)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment.errors import SentimentError

# torch, transformers and tokenizers take seconds to import: the functions that use them import them.
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


# "auto": bfloat16 where the hardware computes it natively (about 1.7x float32 on a Zen 4 CPU, with
# embeddings at cosine 0.99996 of float32's), float32 elsewhere. docs/sentiment.md has the measurements.
# int8 (dynamic quantisation through the deprecated torch.ao.quantization) was dropped: it lost 2.6 points
# of Finnish accuracy and the negation handling, and its supported successor (torchao) is not a dependency.
PRECISIONS = ("auto", "float32", "bfloat16")
_VERSION_SUFFIX = {"float32": "", "bfloat16": "+bf16"}
_CPU_BFLOAT16_FLAGS = {"avx512_bf16", "amx_bf16"}


def resolve_precision(precision: str, device: torch.device) -> str:
    """The number format scoring runs in: `precision` itself, or for "auto" what `device` computes fastest."""
    if precision not in PRECISIONS:
        raise SentimentError(f"scoring precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    return "bfloat16" if native_bfloat16(device) else "float32"


def native_bfloat16(device: torch.device) -> bool:
    """Whether `device` computes in bfloat16 natively; where it is emulated it is slower than float32."""
    import torch

    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(_CPU_BFLOAT16_FLAGS & cpu_flags())
    return False


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo; empty where there is none (not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def apply_precision(model: torch.nn.Module, precision: str) -> tuple[torch.nn.Module, str]:
    """`model` in a resolved precision, and the suffix its model version gains.

    Scores in another precision differ slightly, so stored mentions must tell them apart
    (and `rescore` treats a switch as a model change).
    """
    import torch

    if precision == "bfloat16":
        model = model.to(torch.bfloat16)
    return model, _VERSION_SUFFIX[precision]
