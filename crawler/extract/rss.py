"""RSS 2.0, RSS 1.0 (RDF Site Summary, and its 0.90 ancestor) and Atom feeds, Google Alerts included, as
`PostRecord`s.

RSS 1.0 is RDF: the root is `<rdf:RDF>`, the elements are in the RSS 1.0 namespace, the items are siblings of
the `<channel>` (not inside it), each item names itself in `rdf:about`, and dates, authors and languages
come from Dublin Core (`dc:date`, `dc:creator`, `dc:language`), which RSS 2.0 feeds use too.

Google Alerts (an Atom feed) links every entry through a redirect,
`https://www.google.com/url?rct=j&sa=t&url=<the article>&ct=ga&…`, and wraps the matched words of the
title and snippet in `<b>`; the article URL is unwrapped from the `url` (or `q`) parameter and the markup
dropped. The feed is parsed with entity resolution and network access off (no XXE), and with lxml's
recovering parser so that one stray `&` in a hand-made feed does not lose every entry.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree

from crawler.extract.posts import BAD_POST, MALFORMED_PAYLOAD, NO_TEXT, PostPage, PostRecord, date_value
from crawler.extract.text import html_to_text
from crawler.extract.values import primary_language

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC = "{http://purl.org/dc/elements/1.1/}"
DC_CREATOR = f"{DC}creator"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
RSS_1 = ("{http://purl.org/rss/1.0/}", "{http://my.netscape.com/rdf/simple/0.9/}")  # RSS 1.0, RSS 0.90
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
REDIRECT_HOSTS = ("google.com", "www.google.com")


def unwrap_redirect(link: str) -> str:
    """The target of a google.com/url?…&url=TARGET (or q=TARGET) redirect; any other link unchanged."""
    parts = urlsplit(link)
    if (parts.hostname or "").lower() in REDIRECT_HOSTS and parts.path == "/url":
        query = parse_qs(parts.query)
        for name in ("url", "q"):
            target = (query.get(name) or [""])[0]
            if target.startswith(("http://", "https://")):
                return target
    return link


def _text(element: etree._Element | None) -> str | None:
    """Text of an element, its markup (escaped HTML or XHTML children) turned into plain text."""
    if element is None:
        return None
    if len(element):  # Atom type="xhtml": the content is child elements
        raw = "".join(etree.tostring(child, encoding="unicode", with_tail=True) for child in element)
        raw = (element.text or "") + raw
    else:
        raw = element.text or ""
    text = html_to_text(raw)
    return text or None


def _child(element: etree._Element, *tags: str) -> etree._Element | None:
    for tag in tags:
        found = element.find(tag)
        if found is not None:
            return found
    return None


def parse_feed(body: bytes | str, url: str) -> PostPage:
    page = PostPage()
    data = body.encode("utf-8") if isinstance(body, str) else body
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser) if data.strip() else None
    except (etree.XMLSyntaxError, ValueError) as exc:
        root = None
        page.problem(MALFORMED_PAYLOAD, f"not XML: {str(exc)[:200]}")
        return page
    if root is None or not isinstance(root.tag, str):
        page.problem(MALFORMED_PAYLOAD, "not an XML feed (empty or unreadable)")
        return page
    if root.tag == f"{ATOM}feed":
        _atom(root, url, page)
    elif root.tag == "rss" or root.find("channel") is not None:
        _rss(root, url, page)
    elif root.tag == f"{RDF}RDF":
        _rdf(root, url, page)
    else:
        page.problem(MALFORMED_PAYLOAD, f"neither RSS nor Atom: root element <{root.tag}>")
    return page


def _rss(root: etree._Element, url: str, page: PostPage) -> None:
    channel = root.find("channel")
    if channel is None:
        page.problem(MALFORMED_PAYLOAD, "RSS without a <channel>")
        return
    _items(channel.findall("item"), "", _channel_language(channel, ""), url, page)


def _rdf(root: etree._Element, url: str, page: PostPage) -> None:
    """RSS 1.0 or 0.90: the namespace of the root's <channel> says which; the items follow the channel."""
    ns = next((ns for ns in RSS_1 if root.find(f"{ns}channel") is not None), None)
    if ns is None:
        page.problem(MALFORMED_PAYLOAD, "RDF document without an RSS 1.0 <channel>: not a feed")
        return
    channel = root.find(f"{ns}channel")
    assert channel is not None
    _items(root.findall(f"{ns}item"), ns, _channel_language(channel, ns), url, page)


def _channel_language(channel: etree._Element, ns: str) -> str | None:
    return primary_language((channel.findtext(f"{ns}language") or channel.findtext(f"{DC}language") or "").strip())


def _items(items: list[etree._Element], ns: str, feed_lang: str | None, url: str, page: PostPage) -> None:
    """RSS 2.0 items (`ns` empty) or RSS 1.0 items (`ns` its namespace; `rdf:about` in place of `guid`)."""
    page.size = len(items)
    for number, item in enumerate(items, start=1):
        where = f"item {number}"
        link = (item.findtext(f"{ns}link") or "").strip()
        guid = (item.findtext("guid") or item.get(f"{RDF}about") or "").strip()
        if not link and guid.startswith(("http://", "https://")):
            link = guid
        title = _text(item.find(f"{ns}title"))
        text = _text(_child(item, CONTENT, f"{ns}description")) or title
        published = item.findtext("pubDate") or item.findtext(f"{DC}date") or ""
        _add(
            page,
            where,
            url,
            key=guid or link,
            link=link,
            text=text,
            title=title,
            author=_text(_child(item, DC_CREATOR, "author")),
            published_at=date_value(published.strip() or None, page, where),
            lang=primary_language((item.findtext(f"{DC}language") or "").strip()) or feed_lang,
        )


def _atom(root: etree._Element, url: str, page: PostPage) -> None:
    feed_lang = primary_language(root.get(XML_LANG))
    entries = root.findall(f"{ATOM}entry")
    page.size = len(entries)
    for number, entry in enumerate(entries, start=1):
        where = f"entry {number}"
        link = ""
        for candidate in entry.findall(f"{ATOM}link"):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate.get("href", "").strip()
                break
        title = _text(entry.find(f"{ATOM}title"))
        text = _text(_child(entry, f"{ATOM}content", f"{ATOM}summary")) or title
        published = (entry.findtext(f"{ATOM}published") or entry.findtext(f"{ATOM}updated") or "").strip()
        _add(
            page,
            where,
            url,
            key=(entry.findtext(f"{ATOM}id") or "").strip() or link,
            link=link,
            text=text,
            title=title,
            author=_text(entry.find(f"{ATOM}author/{ATOM}name")),
            published_at=date_value(published or None, page, where),
            lang=primary_language(entry.get(XML_LANG)) or feed_lang,
        )


def _add(page: PostPage, where: str, feed_url: str, key: str, link: str, text: str | None, **fields) -> None:
    if not link and not key:
        page.problem(BAD_POST, f"{where}: no link, guid or id; skipped")
        return
    if not text:
        page.problem(NO_TEXT, f"{where}: no title or text; skipped")
        return
    target = unwrap_redirect(urljoin(feed_url, link)) if link else feed_url
    # A Google Alerts link differs on every fetch (usg=…); the article URL does not.
    key = target if key == link or not key else unwrap_redirect(key)
    if len(key) > 512:
        key = hashlib.sha256(key.encode()).hexdigest()
    page.posts.append(PostRecord(key=key, url=target, text=text, **fields))
