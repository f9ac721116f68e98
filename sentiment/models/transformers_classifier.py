"""Any transformers sequence-classification model (hub id or local folder), its labels mapped onto polarity."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.defaults import BATCH_SIZE
from core.polarity import LABELS, Polarity
from sentiment.errors import SentimentError
from sentiment.models.label_mapping import map_labels
from sentiment.models.model_version import describe_version
from sentiment.runtime.batching import MAX_TOKENS, run_in_sorted_batches
from sentiment.runtime.device import resolve_device
from sentiment.runtime.hardware import apply_precision, resolve_precision
from sentiment.runtime.hf_quiet import quiet_progress_bars

# torch, transformers and tokenizers take seconds to import: the functions that use them import them.
if TYPE_CHECKING:
    import torch

_PATH_PREFIXES = ("/", "./", "../", "~", ".\\", "..\\")


def local_folder(spec: str) -> Path | None:
    """The folder `spec` names, None for a hub id; a path-like spec that is not a folder is an error."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    if spec.startswith(_PATH_PREFIXES) or path.exists():
        # Without this a mistyped folder would be sent to the hub as a repository name.
        raise SentimentError(f"sentiment model folder {spec} does not exist or is not a folder")
    return None


class TransformersClassifier:
    """`SentimentClassifier` over `AutoModelForSequenceClassification`; probabilities of outputs that
    share a polarity are summed (see `sentiment.models.label_mapping`)."""

    def __init__(
        self,
        spec: str,
        *,
        device: str = "cpu",
        labels: str | None = None,
        batch_size: int = BATCH_SIZE,
        precision: str = "auto",
    ) -> None:
        import torch

        self.model_id = spec
        self.batch_size = batch_size
        self.device = resolve_device(device)
        folder = local_folder(spec)
        self.tokenizer, self.model = _load(str(folder) if folder else spec)
        polarities = map_labels(self.model.config.id2label, labels)
        self.label_polarities = polarities
        # (n_outputs, 3) 0/1 matrix: softmax @ matrix sums the outputs of each polarity.
        self._to_polarity = torch.zeros((len(polarities), len(LABELS)))
        for index, polarity in enumerate(polarities):
            self._to_polarity[index, LABELS.index(polarity)] = 1.0
        self._to_polarity = self._to_polarity.to(self.device)
        self.model.to(self.device).eval()
        self.max_length = _max_length(self.tokenizer, self.model.config)
        self.model_version = describe_version(spec, folder, self.model.config)
        self.precision = resolve_precision(precision, self.device)
        self.model, suffix = apply_precision(self.model, self.precision)
        self.model_version += suffix

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        if not texts:
            return []
        probabilities = run_in_sorted_batches(
            list(texts),
            self.tokenizer,
            self._polarity_probabilities,
            batch_size=self.batch_size,
            device=self.device,
            max_length=self.max_length,
        )
        return [Polarity(*row) for row in probabilities.tolist()]

    def _polarity_probabilities(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        import torch

        logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
        return torch.softmax(logits.float(), dim=-1) @ self._to_polarity


def _load(source: str):  # -> (tokenizer, model)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        with quiet_progress_bars():
            model, info = AutoModelForSequenceClassification.from_pretrained(source, output_loading_info=True)
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError, safetensors errors, ...
        raise SentimentError(f"cannot load sentiment model {source!r}: {type(exc).__name__}: {exc}") from exc
    missing = [key for key in info.get("missing_keys", ()) if "position_ids" not in key]
    if missing:
        # transformers would fill these with random numbers, e.g. a base model without a trained head.
        raise SentimentError(
            f"sentiment model {source!r} is not a trained sequence classifier: no weights for {', '.join(missing[:5])}"
        )
    return tokenizer, model


def _max_length(tokenizer, config) -> int:
    # Some tokenizers report a huge placeholder; the position table is the hard limit.
    limits = [MAX_TOKENS, getattr(config, "max_position_embeddings", MAX_TOKENS)]
    if isinstance(tokenizer.model_max_length, int) and tokenizer.model_max_length > 0:
        limits.append(tokenizer.model_max_length)
    return min(limits)
