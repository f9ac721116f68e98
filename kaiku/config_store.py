"""Changing configs/ through code (the management API): the YAML files stay the one source of truth.

A change is applied to a copy of the configuration, written to a scratch folder and loaded back with
`load_config`, so it passes exactly the checks a hand-edited file does (unknown keys, types, duplicate ids,
dangling brand references). Only then are the files replaced, each atomically.

The files are people's files too: a change is merged into the existing YAML (ruamel's round trip), so the
comments, the order and the layout of everything it does not touch stay as they were; an item changed
through the API keeps its own comments, an item removed takes its comments with it. Imported files are
written as they were given.
"""

from __future__ import annotations

import os
import tempfile
import threading
from io import StringIO
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from kaiku.config import ConfigError, KaikuConfig, load_config

FILES = {"brands": "brands.yaml", "sources": "sources.yaml", "alerts": "alerts.yaml"}


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _round_trip() -> YAML:
    yaml = YAML()  # round-trip mode: comments and order survive a load and a dump
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 120
    return yaml


def _yaml_texts(config: KaikuConfig, current: dict[str, str]) -> dict[str, str]:
    """Each file's text with `config`'s items merged into its `current` text."""
    texts = {}
    for key, name in FILES.items():
        items = getattr(config, key)
        yaml = _round_trip()
        document = yaml.load(current.get(name) or "") or CommentedMap()
        if not isinstance(document, CommentedMap):
            document = CommentedMap()
        existing = document.get(key)
        document[key] = _merged(existing if isinstance(existing, CommentedSeq) else CommentedSeq(), items)
        out = StringIO()
        yaml.dump(document, out)
        texts[name] = out.getvalue()
    return texts


def _merged(existing: CommentedSeq, items: list[BaseModel]) -> CommentedSeq:
    """`items` in their order, each reusing the existing entry of the same id (and its comments) where there is one.

    Within an entry only the values that change are replaced (in the style they were written in); a field
    written out at its default stays; a new entry names only what differs from the defaults (a source may name
    only the fields its spider reads).
    """
    by_id = {entry.get("id"): entry for entry in existing if isinstance(entry, CommentedMap)}
    merged = CommentedSeq()
    for item in items:
        values = item.model_dump(mode="json")
        entry = by_id.get(values["id"], CommentedMap())
        for field in list(entry):
            if field not in values:
                del entry[field]
            elif entry[field] != values[field]:
                entry[field] = _in_style_of(entry[field], values[field])
        for field, value in item.model_dump(mode="json", exclude_defaults=True).items():
            if field not in entry:
                entry[field] = value
        merged.append(entry)
    merged.ca.comment = existing.ca.comment  # a comment above the list stays above it
    return merged


def _in_style_of(old: Any, new: Any) -> Any:
    """`new`, written as a flow list (`[a, b]`) or flow mapping where `old` was one."""
    if isinstance(new, list) and isinstance(old, CommentedSeq) and old.fa.flow_style():
        flow = CommentedSeq(new)
        flow.fa.set_flow_style()
        return flow
    if isinstance(new, dict) and isinstance(old, CommentedMap) and old.fa.flow_style():
        mapping = CommentedMap(new)
        mapping.fa.set_flow_style()
        return mapping
    return new


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
        """Merge `config` into the files (see the module's docstring), validate the result, then write it."""
        with self._lock:
            return self._write(_yaml_texts(config, self._current()))

    def replace(self, texts: dict[str, str]) -> KaikuConfig:
        """Validate whole files, then write them as given; a ConfigError leaves the files as they were."""
        unknown = set(texts) - set(FILES.values())
        if unknown:
            raise ConfigError(f"unknown configuration files: {', '.join(sorted(unknown))}")
        with self._lock:
            # Files not given are kept as they are (and still checked with the new ones).
            return self._write({**self._current(), **texts})

    def _current(self) -> dict[str, str]:
        return {
            n: (self.config_dir / n).read_text(encoding="utf-8")
            for n in FILES.values()
            if (self.config_dir / n).exists()
        }

    def _write(self, texts: dict[str, str]) -> KaikuConfig:
        validated = validate_texts(texts, self.config_dir)
        for name, text in texts.items():
            path = self.config_dir / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                _write_atomically(path, text)
        return validated
