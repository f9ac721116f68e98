"""Microdata (`itemscope` / `itemtype` / `itemprop`) turned into JSON-LD-shaped dicts.

Converting to the JSON-LD shape lets one set of schema.org rules read both formats. The property
values follow the HTML microdata algorithm (meta content, link href, time datetime, else text), plus
one common real-world liberty: a `content` attribute on any element wins over its visible text
(`<span itemprop="ratingValue" content="4">★★★★☆</span>`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lxml.html
from lxml import etree

from crawler.extract.text import html_to_text

_URL_ATTRIBUTES = {
    "a": "href",
    "area": "href",
    "link": "href",
    "img": "src",
    "audio": "src",
    "video": "src",
    "source": "src",
    "embed": "src",
    "iframe": "src",
    "track": "src",
    "object": "data",
}


def microdata_items(root: etree._Element) -> list[dict[str, Any]]:
    """Top-level microdata items of the page (nested items appear inside their parent's properties)."""
    return [_item(element) for element in root.iter() if _is_top_level_item(element)]


def _is_top_level_item(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and element.get("itemscope") is not None and element.get("itemprop") is None


def _item(element: etree._Element) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": (element.get("itemtype") or "").split()}
    if element.get("itemid"):
        item["@id"] = element.get("itemid")
    values: dict[str, list[Any]] = {}
    for prop in _properties(element):
        value = _item(prop) if prop.get("itemscope") is not None else _value(prop)
        for name in (prop.get("itemprop") or "").split():
            values.setdefault(name, []).append(value)
    for name, found in values.items():
        item[name] = found[0] if len(found) == 1 else found
    return item


def _properties(scope: etree._Element) -> Iterator[etree._Element]:
    """Descendants carrying `itemprop` that belong to this scope: a nested itemscope owns what is inside it."""
    for child in scope:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        if child.get("itemprop") is not None:
            yield child
        if child.get("itemscope") is None:
            yield from _properties(child)


def _value(element: etree._Element) -> str:
    if element.get("content") is not None:
        return element.get("content").strip()
    tag = element.tag.lower()
    if tag in _URL_ATTRIBUTES:
        return (element.get(_URL_ATTRIBUTES[tag]) or "").strip()
    if tag in ("data", "meter") and element.get("value") is not None:
        return element.get("value").strip()
    if tag == "time" and element.get("datetime"):
        return element.get("datetime").strip()
    return html_to_text(lxml.html.tostring(element, encoding="unicode", with_tail=False))
