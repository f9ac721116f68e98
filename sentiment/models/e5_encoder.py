"""The converted multilingual-e5-small as a sentence embedder: `query: ` prefix, mean pooling, L2 norm.

Both the head's training script and the default classifier embed through this
class, so the head always sees embeddings made exactly the way it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.defaults import BATCH_SIZE
from sentiment.errors import SentimentError
from sentiment.runtime.batching import MAX_TOKENS, run_in_sorted_batches
from sentiment.runtime.device import resolve_device
from sentiment.runtime.hf_quiet import quiet_progress_bars

# torch, transformers and tokenizers take seconds to import: the functions that use them import them.
if TYPE_CHECKING:
    import torch

# e5 was trained with these prefixes; "query: " is the one its authors advise for classification features.
QUERY_PREFIX = "query: "


class E5Encoder:
    def __init__(self, model_dir: Path, *, device: str = "cpu", batch_size: int = BATCH_SIZE) -> None:
        from transformers import AutoTokenizer, BertModel

        self.device = resolve_device(device)
        self.batch_size = batch_size
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
            with quiet_progress_bars():
                self.model = BertModel.from_pretrained(model_dir, add_pooling_layer=False)
        except Exception as exc:  # transformers / safetensors raise many types for a damaged folder
            raise SentimentError(
                f"cannot load the converted e5 encoder from {model_dir} (delete the folder to convert again): {exc}"
            ) from exc
        self.model.to(self.device).eval()  # type: ignore[arg-type]  # transformers' wrapped .to() confuses mypy
        self.dim = self.model.config.hidden_size

    def embed(self, texts: Sequence[str], prefix: str = QUERY_PREFIX) -> torch.Tensor:
        """L2-normalised mean-pooled embeddings, one row per text, in input order."""
        import torch

        if not texts:
            return torch.empty((0, self.dim))
        return run_in_sorted_batches(
            [prefix + text for text in texts],
            self.tokenizer,
            self._mean_pooled,
            batch_size=self.batch_size,
            device=self.device,
            max_length=MAX_TOKENS,
        )

    def _mean_pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        import torch

        # Pool in float32 whatever the model computes in: a bfloat16 sum over many tokens loses digits.
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state.float()
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)
