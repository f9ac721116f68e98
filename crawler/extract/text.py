"""Turning HTML fragments and raw bytes into plain text."""

from __future__ import annotations

import re

from w3lib.encoding import html_to_unicode
from w3lib.html import remove_tags, remove_tags_with_content, replace_entities

_WHITESPACE = re.compile(r"\s+")
# Tags that separate words visually; removing them without a space would glue "great.<br>Room" into "great.Room".
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr|/td|/blockquote)\b[^>]*>", re.IGNORECASE)


def normalise_space(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: scripts dropped, tags removed, entities decoded, whitespace collapsed.

    Plain text goes through unchanged apart from whitespace and entities, so it is safe to call on
    values that may or may not contain markup (JSON-LD `reviewBody` often carries `<br>` or `&amp;`).
    """
    if "<" in fragment:
        fragment = remove_tags_with_content(fragment, which_ones=("script", "style"))
        fragment = _BREAKS.sub(" ", fragment)
        fragment = remove_tags(fragment)
    return normalise_space(replace_entities(fragment))


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode a page the way a browser would: BOM, then the Content-Type header, then <meta charset>, else UTF-8."""
    _, text = html_to_unicode(content_type, body)
    return text
