"""The small polarity head on top of e5 embeddings, and how it is stored (safetensors + json beside it)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.experience import DEFAULT_THRESHOLDS
from sentiment.errors import SentimentError

# torch, transformers and tokenizers take seconds to import: the functions that use them import them.
if TYPE_CHECKING:
    import torch

HEAD_NAME = "e5-polarity-v3"


def packaged_heads_dir() -> Path:
    return Path(str(resources.files("sentiment") / "heads"))


def build_head(dim: int, hidden: int | None, dropout: float = 0.0, n_labels: int = 3) -> torch.nn.Module:
    """Logistic regression (hidden=None) or one hidden layer; inputs are standardised inside the head."""
    import torch
    from torch import nn

    class PolarityHead(nn.Module):
        input_mean: torch.Tensor
        input_scale: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            # Stored with the weights so whoever loads the head cannot forget the standardisation.
            self.register_buffer("input_mean", torch.zeros(dim))
            self.register_buffer("input_scale", torch.ones(dim))
            if hidden:
                self.layers = nn.Sequential(
                    nn.Dropout(dropout),
                    nn.Linear(dim, hidden),
                    nn.GELU(),
                    nn.Dropout(dropout),
                    nn.Linear(hidden, n_labels),
                )
            else:
                self.layers = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, n_labels))

        def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
            return self.layers((embeddings - self.input_mean) / self.input_scale)

    return PolarityHead()


def save_head(head: torch.nn.Module, metadata: dict[str, Any], directory: Path, name: str = HEAD_NAME) -> Path:
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / f"{name}.safetensors"
    state = {key: value.detach().cpu().contiguous() for key, value in head.state_dict().items()}
    # One metadata key only: safetensors writes its metadata map in hash order, and the file should be reproducible.
    save_file(state, str(weights), metadata={"version": str(metadata.get("version", ""))})
    weights.chmod(0o644)  # save_file creates 0600; the head ships with the package
    (directory / f"{name}.json").write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return weights


def load_head_metadata(directory: Path | None = None, name: str = HEAD_NAME) -> dict[str, Any]:
    path = (directory or packaged_heads_dir()) / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SentimentError(f"cannot read the polarity head's description {path}: {exc}") from exc


def model_text_thresholds(model: str) -> tuple[float, float]:
    """(text_anger, text_delight) a model was calibrated for: the default head stores them in its json
    (calibrated on its validation split); any other model gets the rule's defaults (core/experience.py)."""
    if model != "default":
        return DEFAULT_THRESHOLDS.text_anger, DEFAULT_THRESHOLDS.text_delight
    calibrated = load_head_metadata().get("experience", {})
    return (
        float(calibrated.get("text_anger", DEFAULT_THRESHOLDS.text_anger)),
        float(calibrated.get("text_delight", DEFAULT_THRESHOLDS.text_delight)),
    )


def load_head(directory: Path | None = None, name: str = HEAD_NAME) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The head in eval mode and its metadata (labels, encoder it was trained on, scores, version)."""
    from safetensors.torch import load_file

    directory = directory or packaged_heads_dir()
    metadata = load_head_metadata(directory, name)
    architecture = metadata.get("architecture", {})
    head = build_head(
        dim=int(architecture.get("input_dim", 0)),
        hidden=architecture.get("hidden"),
        n_labels=len(metadata.get("labels", ())),
    )
    path = directory / f"{name}.safetensors"
    try:
        head.load_state_dict(load_file(str(path)), strict=True)
    except (OSError, RuntimeError, ValueError) as exc:
        raise SentimentError(f"cannot load the polarity head {path}: {exc}") from exc
    return head.eval(), metadata
