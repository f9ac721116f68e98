"""The parsed page and what it says about itself: declared language and canonical URL."""

from __future__ import annotations

from urllib.parse import urljoin

import lxml.html
from lxml import etree

from crawler.errors import CrawlerError
from crawler.extract.values import primary_language


class EmptyDocument(CrawlerError, ValueError):
    """The input holds no HTML at all."""


def parse_document(html: str) -> tuple[etree._Element, str | None]:
    """The parsed page, and why the parser stopped early when it did (the rest of the page is missing then).

    `huge_tree` lifts libxml2's default nesting limit of 256 elements to 2048: past the limit it silently
    drops the rest of the page, and deep pages are common (page builders, threaded comment lists, or one
    unclosed `<div>` per review in a long listing nests every later review one level deeper).
    """
    if not html.strip():
        raise EmptyDocument("empty document")
    # lxml refuses str input that carries an XML encoding declaration; encoding to UTF-8 bytes
    # with an explicit parser encoding sidesteps that without re-guessing the charset.
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        root = lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise EmptyDocument(str(exc) or "empty document") from exc
    fatal = next((entry for entry in parser.error_log if entry.level == etree.ErrorLevels.FATAL), None)
    return root, (f"{fatal.message.strip()} (line {fatal.line})" if fatal is not None else None)


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
