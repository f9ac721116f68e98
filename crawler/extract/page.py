"""The parsed page and what it says about itself: declared language and canonical URL."""

from __future__ import annotations

from urllib.parse import urljoin

import lxml.html
from lxml import etree

from crawler.extract.values import primary_language


class EmptyDocument(ValueError):
    """The input holds no HTML at all."""


def parse_document(html: str) -> etree._Element:
    if not html.strip():
        raise EmptyDocument("empty document")
    try:
        # lxml refuses str input that carries an XML encoding declaration; encoding to UTF-8 bytes
        # with an explicit parser encoding sidesteps that without re-guessing the charset.
        parser = lxml.html.HTMLParser(encoding="utf-8")
        root = lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise EmptyDocument(str(exc) or "empty document") from exc
    return root


def page_language(root: etree._Element) -> str | None:
    """Primary subtag of <html lang> (or xml:lang, or a Content-Language meta); None when undeclared."""
    html = root if root.tag == "html" else next(iter(root.iter("html")), None)
    if html is not None:
        for attribute in ("lang", "{http://www.w3.org/XML/1998/namespace}lang", "xml:lang"):
            lang = primary_language(html.get(attribute))
            if lang:
                return lang
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "content-language":
            return primary_language((meta.get("content") or "").split(",")[0])
    return None


def canonical_url(root: etree._Element, page_url: str) -> str | None:
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            return urljoin(page_url, link.get("href").strip())
    return None
