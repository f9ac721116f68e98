"""A version string for a transformers model: which revision, and which exact weights.

Stored with every mention so that re-scoring can find what an older model judged.
The hub commit names the revision; the weights hash catches a local folder whose
files were replaced under the same name.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
SHORT = 12


def _file_digest(path: Path) -> str:
    # Hub cache blobs of LFS files are named by their sha256: no need to read a gigabyte again.
    blob = path.resolve()
    if _SHA256.match(blob.name):
        return blob.name
    digest = hashlib.sha256()
    with blob.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _find(folder: Path | None, spec: str, revision: str | None, filename: str) -> Path | None:
    if folder is not None:
        path = folder / filename
        return path if path.is_file() else None
    from huggingface_hub import try_to_load_from_cache  # late: a heavy import, needed only for hub models

    cached = try_to_load_from_cache(spec, filename, revision=revision)
    return Path(cached) if isinstance(cached, str) else None


def weights_fingerprint(spec: str, folder: Path | None, revision: str | None = None) -> str | None:
    """Short sha256 of the weights (of every shard's digest when sharded); None when no file is found."""
    for filename in WEIGHT_FILES:
        path = _find(folder, spec, revision, filename)
        if path is not None:
            return _file_digest(path)[:SHORT]
    for filename in INDEX_FILES:
        index = _find(folder, spec, revision, filename)
        if index is None:
            continue
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8")).get("weight_map", {}).values()))
        digests = []
        for shard in shards:
            path = _find(folder, spec, revision, shard)
            if path is None:
                return None
            digests.append(_file_digest(path))
        return hashlib.sha256("".join(digests).encode()).hexdigest()[:SHORT]
    return None


def describe_version(spec: str, folder: Path | None, config: Any) -> str:
    """'<hub commit or config name>+<weights hash>' (the hash only when a weights file is found)."""
    revision = getattr(config, "_commit_hash", None)
    # A local folder's full path says more about the machine than the model: keep its name only.
    name = folder.name if folder is not None else getattr(config, "_name_or_path", None)
    base = revision or name or spec
    fingerprint = weights_fingerprint(spec, folder, revision)
    return f"{base}+{fingerprint}" if fingerprint else str(base)
