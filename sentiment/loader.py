"""One entry point from a model spec (settings, CLI flag) to a loaded `SentimentClassifier`."""

from __future__ import annotations

from pathlib import Path

from core.defaults import BATCH_SIZE
from core.polarity import SentimentClassifier
from sentiment.errors import SentimentError
from sentiment.runtime.hardware import configure_threads

DEFAULT_SPEC = "default"


def load_classifier(
    spec: str,
    *,
    cache_dir: Path,
    device: str = "cpu",
    labels: str | None = None,
    batch_size: int = BATCH_SIZE,
    threads: int | None = None,
    precision: str = "auto",
) -> SentimentClassifier:
    """`"default"`: the offline e5 + head model (converted into `cache_dir` on first use);
    anything else: a transformers hub id or local folder, `labels` overriding its label mapping.

    `threads` sets torch's thread count (default: the available cores); `precision` is one of
    `sentiment.runtime.hardware.PRECISIONS` ("auto": bfloat16 where the device computes it natively, else float32;
    docs/sentiment.md has their costs).
    Loading is slow (seconds): load once per process and keep the classifier.
    """
    spec = (spec or "").strip()
    labels = labels.strip() if labels and labels.strip() else None  # an empty KAIKU_SENTIMENT_LABELS means none
    if not spec:
        raise SentimentError("no sentiment model given (use 'default', a hub id or a folder)")
    if batch_size < 1:
        raise SentimentError(f"batch size must be at least 1, got {batch_size}")
    configure_threads(threads)
    if spec == DEFAULT_SPEC:
        if labels:
            raise SentimentError("a label mapping applies to transformers models only; the default model's is fixed")
        from sentiment.models.e5_classifier import E5HeadClassifier  # late, as below: only the model that is used loads

        return E5HeadClassifier(cache_dir, device=device, batch_size=batch_size, precision=precision)
    # Imported here: each model's modules pull in numpy, safetensors and its converter (over a second), which
    # `import sentiment` and the other model should not pay for.
    from sentiment.models.transformers_classifier import TransformersClassifier

    return TransformersClassifier(spec, device=device, labels=labels, batch_size=batch_size, precision=precision)
