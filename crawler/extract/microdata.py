"""Microdata (`itemscope` / `itemtype` / `itemprop`) and RDFa Lite (`typeof` / `property`) as JSON-LD-shaped dicts.

Converting to the JSON-LD shape lets one set of schema.org rules read every format. The two HTML
syntaxes nest the same way -- an element that starts an item owns the properties inside it -- and differ
only in their attribute names. Property values follow the HTML microdata algorithm (meta content, link
href, time datetime, else text), plus one common real-world liberty: a `content` attribute on any
element wins over its visible text (`<span itemprop="ratingValue" content="4">★★★★☆</span>`). RDFa's
`resource` names an item (`@id`) or gives a property's value. Microdata's `itemref` adds the properties
of the elements it names. Types and properties keep their prefixes (`schema:Review`) or IRIs; the
schema.org rules shorten them. RDFa's `rel`/`rev` chaining, beyond RDFa Lite, is not read.
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


UNOWNED = "@unowned"  # the properties an item names although no item owns it


@dataclass(frozen=True)
class _Syntax:
    starts_item: str  # the attribute whose presence makes an element an item
    item_type: str
    item_property: str
    item_id: str
    item_ref: str | None  # ids of elements elsewhere on the page whose properties the item also owns


MICRODATA = _Syntax(
    starts_item="itemscope", item_type="itemtype", item_property="itemprop", item_id="itemid", item_ref="itemref"
)
RDFA = _Syntax(starts_item="typeof", item_type="typeof", item_property="property", item_id="resource", item_ref=None)


def microdata_items(root: etree._Element) -> list[dict[str, Any]]:
    """Top-level microdata items of the page (nested items appear inside their parent's properties)."""
    return _Reader(root, MICRODATA).top_level_items()


def rdfa_items(root: etree._Element) -> list[dict[str, Any]]:
    """Top-level RDFa Lite items of the page (elements with `typeof` that are not a property of another)."""
    return _Reader(root, RDFA).top_level_items()


class _Reader:
    def __init__(self, root: etree._Element, syntax: _Syntax) -> None:
        self.syntax = syntax
        self.by_id: dict[str, etree._Element] = {}
        if syntax.item_ref:
            for element in root.iter():
                if isinstance(element.tag, str) and element.get("id"):
                    self.by_id.setdefault(element.get("id"), element)
        self.items = [
            element
            for element in root.iter()
            if isinstance(element.tag, str) and element.get(syntax.starts_item) is not None
        ]

    def top_level_items(self) -> list[dict[str, Any]]:
        """Every item that is no other item's property.

        The microdata spec makes only items *without* `itemprop` top-level, but review widgets often print
        `<div itemprop="review" itemscope itemtype=".../Review">` outside any item (the page's Product
        scope closes before the widget, or there is none); those reviews are read too rather than lost. Such an
        item keeps the property it names in `@unowned` (`"review"`), for the schema.org rules.
        """
        owned = {prop for element in self.items for prop in self._properties(element)}
        items = []
        for element in self.items:
            if element in owned:
                continue
            item = self._item(element, frozenset())
            if element.get(self.syntax.item_property):
                item[UNOWNED] = element.get(self.syntax.item_property, "").split()
            items.append(item)
        return items

    def _item(self, element: etree._Element, outer: frozenset[etree._Element]) -> dict[str, Any]:
        syntax = self.syntax
        item: dict[str, Any] = {"@type": (element.get(syntax.item_type) or "").split()}
        if element.get(syntax.item_id):
            item["@id"] = element.get(syntax.item_id)
        inside = outer | {element}
        values: dict[str, list[Any]] = {}
        for prop in self._properties(element):
            if prop.get(syntax.starts_item) is None:
                value: Any = _value(prop, syntax)
            elif prop in inside:  # an itemref loop: an item cannot contain itself
                continue
            else:
                value = self._item(prop, inside)
            for name in (prop.get(syntax.item_property) or "").split():
                values.setdefault(name, []).append(value)
        for name, found in values.items():
            item[name] = found[0] if len(found) == 1 else found
        return item

    def _properties(self, item: etree._Element) -> Iterator[etree._Element]:
        """The elements carrying a property of this item: its descendants (a nested item owns what is
        inside it) and, for microdata `itemref`, the referenced elements and their descendants."""
        yield from self._descend(item)
        for ref in (item.get(self.syntax.item_ref) or "").split() if self.syntax.item_ref else ():
            element = self.by_id.get(ref)
            if element is None or element is item:
                continue
            if element.get(self.syntax.item_property) is not None:
                yield element
            if element.get(self.syntax.starts_item) is None:
                yield from self._descend(element)

    def _descend(self, scope: etree._Element) -> Iterator[etree._Element]:
        for child in scope:
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            if child.get(self.syntax.item_property) is not None:
                yield child
            if child.get(self.syntax.starts_item) is None:
                yield from self._descend(child)


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
