"""JSON-LD blocks: `<script type="application/ld+json">`, parsed leniently; only slips with one meaning are repaired."""

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
    repaired: str | None = None  # what was removed to read it, when it was not JSON as it stood


def jsonld_blocks(root: etree._Element) -> list[JsonLdBlock]:
    """Every JSON-LD block of the page in document order, each parsed or with its parse error.

    `strict=False` admits raw newlines and tabs inside strings, which real pages often have. A block that
    is still not JSON gets one repair of the slips that have a single meaning (`_repair`); anything else
    (a truncated block, a missing quote) is reported as malformed, not guessed at.
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
            continue
        except json.JSONDecodeError as exc:
            error = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        repaired, removed = _repair(raw)
        try:
            blocks.append(JsonLdBlock(index, json.loads(repaired, strict=False), None, ", ".join(removed)))
        except json.JSONDecodeError:
            blocks.append(JsonLdBlock(index, None, error))
    return blocks


_STRAY = frozenset("\u00a0\ufeff\u2028\u2029\u200b") | {chr(code) for code in range(32) if chr(code) not in "\t\n\r"}
_ESCAPABLE = frozenset('"\\/bfnrtu')


def _repair(raw: str) -> tuple[str, list[str]]:
    """The block without the slips CMS templates and hand edits leave, and which ones were removed.

    Outside strings: trailing commas before `}` or `]`, HTML comments, and invisible characters (control
    characters, no-break spaces, BOMs, line separators) that JSON does not count as whitespace. Inside
    strings: a backslash before a character that needs no escape (`It\\'s`, from PHP's addslashes).
    Each has one reading; nothing is added or reordered.
    """
    out: list[str] = []
    removed: set[str] = set()
    in_string = False
    i = 0
    while i < len(raw):
        char = raw[i]
        if in_string:
            if char == "\\" and i + 1 < len(raw):
                if raw[i + 1] in _ESCAPABLE:
                    out.append(raw[i : i + 2])
                else:
                    out.append(raw[i + 1])
                    removed.add("needless backslashes")
                i += 2
                continue
            in_string = char != '"'
            out.append(char)
        elif char == '"':
            in_string = True
            out.append(char)
        elif char in _STRAY:
            out.append(" ")
            removed.add("stray invisible characters")
        elif raw.startswith("<!--", i):
            end = raw.find("-->", i + 4)
            i = len(raw) if end < 0 else end + 3
            removed.add("HTML comments")
            continue
        elif char in "}]":
            last = len(out) - 1
            while last >= 0 and out[last].isspace():
                last -= 1
            if last >= 0 and out[last] == ",":
                del out[last]
                removed.add("trailing commas")
            out.append(char)
        else:
            out.append(char)
        i += 1
    return "".join(out), sorted(removed)
