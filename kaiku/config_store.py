"""Changing configs/ through code (the management API): the YAML files stay the one source of truth.

A change is applied to a copy of the configuration, written to a scratch folder and loaded back with
`load_config`, so it passes exactly the checks a hand-edited file does (unknown keys, types, duplicate ids,
dangling brand references). Only then are the files replaced, each atomically. Comments in rewritten files are
not kept: the files are rewritten from the validated models.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import yaml

from kaiku.config import ConfigError, KaikuConfig, load_config

FILES = {"brands": "brands.yaml", "sources": "sources.yaml", "alerts": "alerts.yaml"}


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _yaml_texts(config: KaikuConfig) -> dict[str, str]:
    texts = {}
    for key, name in FILES.items():
        # Defaults left out: a source may only name the fields its spider reads, and the file stays readable.
        items = [item.model_dump(mode="json", exclude_defaults=True) for item in getattr(config, key)]
        header = f"# Written by Kaiku's management API; edit here or through /v1/{key}.\n"
        texts[name] = header + yaml.safe_dump({key: items}, sort_keys=False, allow_unicode=True)
    return texts


def validate_texts(texts: dict[str, str], shown_as: Path) -> KaikuConfig:
    """Load YAML texts (file name -> text) with the same checks as configs/; errors name `shown_as`/<file>."""
    with tempfile.TemporaryDirectory() as scratch:
        for name, text in texts.items():
            (Path(scratch) / name).write_text(text, encoding="utf-8")
        try:
            return load_config(Path(scratch))
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(scratch, str(shown_as))) from exc


class ConfigStore:
    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self._lock = threading.Lock()  # one change at a time within this process

    def load(self) -> KaikuConfig:
        return load_config(self.config_dir)

    def save(self, config: KaikuConfig) -> KaikuConfig:
        return self.replace(_yaml_texts(config))

    def replace(self, texts: dict[str, str]) -> KaikuConfig:
        """Validate whole files, then write them; a ConfigError leaves the files as they were."""
        unknown = set(texts) - set(FILES.values())
        if unknown:
            raise ConfigError(f"unknown configuration files: {', '.join(sorted(unknown))}")
        with self._lock:
            # Files not given are kept as they are (and still checked with the new ones).
            current = {
                n: (self.config_dir / n).read_text(encoding="utf-8")
                for n in FILES.values()
                if (self.config_dir / n).exists()
            }
            validated = validate_texts({**current, **texts}, self.config_dir)
            for name, text in _yaml_texts(validated).items():
                _write_atomically(self.config_dir / name, text)
            return validated
