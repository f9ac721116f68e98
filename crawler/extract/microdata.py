"""Microdata (`itemscope` / `itemtype` / `itemprop`) and RDFa Lite (`typeof` / `property`) as JSON-LD-shaped dicts.

Converting to the JSON-LD shape lets one set of schema.org rules read every format. The two HTML
syntaxes nest the same way -- an element that starts an item owns the properties inside it -- and differ
only in their attribute names. Property values follow the HTML microdata algorithm (meta content, link
href, time datetime, else text), plus one common real-world liberty: a `content` attribute on any
element wins over its visible text (`<span itemprop="ratingValue" content="4">★★★★☆</span>`). RDFa's
`resource` names an item (`@id`) or gives a property's value. Types and properties keep their prefixes
(`schema:Review`) or IRIs; the schema.org rules shorten them. RDFa's `rel`/`rev` chaining, beyond
RDFa Lite, is not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Syntax:
    starts_item: str  # the attribute whose presence makes an element an item
    item_type: str
    item_property: str
    item_id: str


MICRODATA = _Syntax(starts_item="itemscope", item_type="itemtype", item_property="itemprop", item_id="itemid")
RDFA = _Syntax(starts_item="typeof", item_type="typeof", item_property="property", item_id="resource")


def microdata_items(root: etree._Element) -> list[dict[str, Any]]:
    """Top-level microdata items of the page (nested items appear inside their parent's properties)."""
    return _top_level_items(root, MICRODATA)


def rdfa_items(root: etree._Element) -> list[dict[str, Any]]:
    """Top-level RDFa Lite items of the page (elements with `typeof` that are not a property of another)."""
    return _top_level_items(root, RDFA)


def _top_level_items(root: etree._Element, syntax: _Syntax) -> list[dict[str, Any]]:
    return [
        _item(element, syntax)
        for element in root.iter()
        if isinstance(element.tag, str)
        and element.get(syntax.starts_item) is not None
        and element.get(syntax.item_property) is None
    ]


def _item(element: etree._Element, syntax: _Syntax) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": (element.get(syntax.item_type) or "").split()}
    if element.get(syntax.item_id):
        item["@id"] = element.get(syntax.item_id)
    values: dict[str, list[Any]] = {}
    for prop in _properties(element, syntax):
        value = _item(prop, syntax) if prop.get(syntax.starts_item) is not None else _value(prop, syntax)
        for name in (prop.get(syntax.item_property) or "").split():
            values.setdefault(name, []).append(value)
    for name, found in values.items():
        item[name] = found[0] if len(found) == 1 else found
    return item


def _properties(scope: etree._Element, syntax: _Syntax) -> Iterator[etree._Element]:
    """Descendants carrying a property that belong to this item: a nested item owns what is inside it."""
    for child in scope:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        if child.get(syntax.item_property) is not None:
            yield child
        if child.get(syntax.starts_item) is None:
            yield from _properties(child, syntax)


def _value(element: etree._Element, syntax: _Syntax) -> str:
    if element.get("content") is not None:
        return element.get("content").strip()
    if syntax is RDFA and element.get("resource") is not None:
        return element.get("resource").strip()
    tag = element.tag.lower()
    if tag in _URL_ATTRIBUTES:
        return (element.get(_URL_ATTRIBUTES[tag]) or "").strip()
    if tag in ("data", "meter") and element.get("value") is not None:
        return element.get("value").strip()
    if tag == "time" and element.get("datetime"):
        return element.get("datetime").strip()
    return html_to_text(lxml.html.tostring(element, encoding="unicode", with_tail=False))
