"""Changing configs/ through code (the management API): the YAML files stay the one source of truth.

A change is applied to a copy of the configuration, written to a scratch folder and loaded back with
`load_config`, so it passes exactly the checks a hand-edited file does (unknown keys, types, duplicate ids,
dangling brand references). Only then are the files replaced, each atomically.

Several API processes and the scheduler share the folder. A change is a read-modify-write under the folder's
exclusive lock (`core.config.config_lock`, an flock that works across processes): the files are read from disk
inside the lock, the change is applied to what they hold then, and the new files are written before the lock is
released, so two concurrent changes never build on the same old state. A file is written to a temporary file,
fsynced, renamed over the old one and the folder fsynced: once `update` returns, the change survives a crash.

The files are people's files too: a change is merged into the existing YAML (ruamel's round trip), so the
comments, the order and the layout of everything it does not touch stay as they were; an item changed
through the API keeps its own comments, an item removed takes its comments with it. Imported files are
written as they were given.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
import threading
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from core.config import ConfigError, KaikuConfig, config_lock, load_config

FILES = {"brands": "brands.yaml", "sources": "sources.yaml", "alerts": "alerts.yaml"}
logger = logging.getLogger(__name__)


def _write_durably(path: Path, text: str) -> None:
    """Replace `path` atomically and durably, keeping its permission bits (a new file gets 0666 less the umask)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # Created like any file the process writes (the umask applies), not 0600 as mkstemp would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        if path.exists():
            os.fchmod(fd, stat.S_IMODE(path.stat().st_mode))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)  # the rename itself is durable only once the folder's entry is on disk


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def validate_texts(texts: dict[str, str]) -> KaikuConfig:
    """Load YAML texts (file name -> text) with the same checks as configs/.

    Errors name the file only (`brands.yaml: brands.2.name: ...`): they are shown to API callers, who are told
    nothing about the server's folders.
    """
    with tempfile.TemporaryDirectory() as scratch:
        for name, text in texts.items():
            (Path(scratch) / name).write_text(text, encoding="utf-8")
        try:
            return load_config(Path(scratch))
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(scratch + os.sep, "").replace(scratch, "the configuration")) from exc


class ConfigStore:
    """The configuration folder as the API sees it: read when it changed, changed under the folder's lock."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        # One change at a time within this process too: the folder lock must not be taken twice by one process.
        self._lock = threading.Lock()
        self._cached: tuple[tuple[Any, ...], KaikuConfig] | None = None
        self._refused: tuple[Any, ...] | None = None  # files seen invalid; not parsed again until they change

    def load(self) -> KaikuConfig:
        config = load_config(self.config_dir)
        self._cached = (self._signature(), config)
        return config

    def current(self) -> KaikuConfig:
        """The configuration on disk, read again only when a file changed (another process or a hand edit).

        A file edited into an invalid state is logged and the last valid configuration kept, so that a typo
        in a hand edit does not take the API down; the next change through the API reports the error.
        """
        signature = self._signature()
        if self._cached is not None and signature in (self._cached[0], self._refused):
            return self._cached[1]
        try:
            return self.load()
        except ConfigError as exc:
            if self._cached is None:
                raise
            logger.warning("configuration changed on disk but is invalid; keeping the last valid one: %s", exc)
            self._refused = signature
            return self._cached[1]

    def update(self, change: Callable[[KaikuConfig], KaikuConfig]) -> KaikuConfig:
        """Apply `change` to the configuration as on disk now, validate the result, write it; all under the lock.

        `change` may raise to refuse (e.g. an id that exists already): nothing is written then. It gets the
        configuration to change and must not read it otherwise (`load_config`, `current`): the folder is locked.
        """
        with self._lock, config_lock(self.config_dir, exclusive=True):
            texts = self._read()  # from disk, inside the lock: what other processes wrote is built upon
            return self._write(_yaml_texts(change(self._parsed(texts)), texts))

    def replace(self, texts: dict[str, str]) -> KaikuConfig:
        """Validate whole files, then write them as given; a ConfigError leaves the files as they were."""
        unknown = set(texts) - set(FILES.values())
        if unknown:
            raise ConfigError(f"unknown configuration files: {', '.join(sorted(unknown))}")
        with self._lock, config_lock(self.config_dir, exclusive=True):
            # Files not given are kept as they are (and still checked with the new ones).
            return self._write({**self._read(), **texts})

    def _parsed(self, texts: dict[str, str]) -> KaikuConfig:
        """The configuration of `texts`, just read from the files: the cached one where the files did not change."""
        if self._cached is not None and self._cached[0] == self._signature():
            return self._cached[1]
        return validate_texts(texts)

    def _signature(self) -> tuple[Any, ...]:
        signature: list[Any] = []
        for name in FILES.values():
            try:
                info = (self.config_dir / name).stat()
            except FileNotFoundError:
                signature.append(None)
            else:
                signature.append((info.st_ino, info.st_mtime_ns, info.st_size))
        return tuple(signature)

    def _read(self) -> dict[str, str]:
        return {
            n: (self.config_dir / n).read_text(encoding="utf-8")
            for n in FILES.values()
            if (self.config_dir / n).exists()
        }

    def _write(self, texts: dict[str, str]) -> KaikuConfig:
        validated = validate_texts(texts)
        for name, text in texts.items():
            path = self.config_dir / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                _write_durably(path, text)
        self._cached = (self._signature(), validated)
        return validated
