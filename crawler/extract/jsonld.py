"""JSON-LD blocks: `<script type="application/ld+json">`, parsed leniently but never repaired."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

# Wrappers some CMSs put around the JSON to hide it from old browsers; they are not part of the data.
_WRAPPERS = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")


@dataclass(frozen=True)
class JsonLdBlock:
    index: int  # 1-based position among the page's JSON-LD blocks, for messages
    data: Any | None  # parsed JSON, None when malformed
    error: str | None  # why it could not be parsed


def jsonld_blocks(root: etree._Element) -> list[JsonLdBlock]:
    """Every JSON-LD block of the page in document order, each parsed or with its parse error.

    `strict=False` admits raw newlines and tabs inside strings, which real pages often have; anything
    else that is not JSON (trailing commas, truncated blocks) is reported as malformed, not guessed at.
    """
    blocks: list[JsonLdBlock] = []
    for script in root.iter("script"):
        kind = (script.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        index = len(blocks) + 1
        raw = _WRAPPERS.sub("", script.text or "").strip()
        if not raw:
            blocks.append(JsonLdBlock(index, None, "empty block"))
            continue
        try:
            blocks.append(JsonLdBlock(index, json.loads(raw, strict=False), None))
        except json.JSONDecodeError as exc:
            blocks.append(JsonLdBlock(index, None, f"{exc.msg} at line {exc.lineno} column {exc.colno}"))
    return blocks
