"""The demo review site scaled up: as many review pages as a benchmark needs, written to a folder and served.

Every page is a hotel page of one of the two demo brands in the bundled site's format (schema.org Hotel with
JSON-LD reviews, `rel=next` to the following page), holding REVIEWS_PER_PAGE reviews whose texts are the demo
site's own review bodies, each made unique with a numbered sentence so that no two mentions share an id or a text.
"""

from __future__ import annotations

import html
import json
import tempfile
from datetime import date, timedelta
from pathlib import Path

from cli.demo.server import SITE_DIR, DemoSite, serve_site
from crawler.extract.schema_org import extract_reviews

REVIEWS_PER_PAGE = 20
HOTELS = ("Hotelli Revontuli Levi", "Tunturi Inn Ylläs", "Hotelli Revontuli Helsinki", "Tunturi Inn Rovaniemi")
PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="fi"><head><meta charset="utf-8"><title>{title} – arviot – sivu {page}</title>
{next_link}<script type="application/ld+json">{jsonld}</script></head>
<body><h1>{title}</h1><p>Sivu {page}.</p>{next_anchor}</body></html>
"""


def demo_reviews() -> list[tuple[str, int]]:
    """(text, stars) of every review in the bundled demo site."""
    reviews = []
    for page in sorted(SITE_DIR.glob("*.html")):
        for record in extract_reviews(page.read_bytes(), f"http://demo/{page.name}", "text/html").reviews:
            if record.text and record.rating is not None:
                reviews.append((record.text, round(record.rating / (record.rating_max or 5) * 5)))
    return reviews


def write_site(mentions: int, folder: Path) -> int:
    """Write pages holding `mentions` reviews into `folder`; returns the number of review pages."""
    reviews = demo_reviews()
    pages = -(-mentions // REVIEWS_PER_PAGE)
    per_hotel = -(-pages // len(HOTELS))
    links = []
    written = 0
    for hotel_number, hotel in enumerate(HOTELS):
        slug = f"hotel-{hotel_number}"
        hotel_pages = min(per_hotel, pages - hotel_number * per_hotel)
        for page in range(1, hotel_pages + 1):
            count = min(REVIEWS_PER_PAGE, mentions - written)
            items = []
            for n in range(written, written + count):
                text, stars = reviews[n % len(reviews)]
                items.append({
                    "@type": "Review",
                    "author": {"@type": "Person", "name": f"Arvioija {n}"},
                    "datePublished": (date(2026, 11, 20) - timedelta(hours=n * 7 // 24)).isoformat(),
                    "reviewBody": f"{text} Arvio numero {n}.",
                    "reviewRating": {"@type": "Rating", "ratingValue": stars, "bestRating": 5, "worstRating": 1},
                })  # fmt: skip
            written += count
            jsonld = json.dumps({"@context": "https://schema.org", "@type": "Hotel", "name": hotel, "review": items},
                                ensure_ascii=False).replace("</", "<\\/")  # fmt: skip
            has_next = page < hotel_pages
            next_href = f"/{slug}-{page + 1}.html"
            (folder / f"{slug}-{page}.html").write_text(
                PAGE_TEMPLATE.format(
                    title=html.escape(hotel),
                    page=page,
                    jsonld=jsonld,
                    next_link=f'<link rel="next" href="{next_href}">\n' if has_next else "",
                    next_anchor=f'<a rel="next" href="{next_href}">Seuraava</a>' if has_next else "",
                ),
                encoding="utf-8",
            )
        if hotel_pages > 0:
            links.append(f'<li><a href="/{slug}-1.html">{html.escape(hotel)}</a></li>')
    (folder / "index.html").write_text(
        f'<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8"><title>Arviot</title></head>'
        f"<body><ul>{''.join(links)}</ul></body></html>",
        encoding="utf-8",
    )
    (folder / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return pages


def serve_scaled_site(mentions: int) -> tuple[DemoSite, int]:
    """Write and serve a site with `mentions` reviews; returns the running site and its number of review pages."""
    folder = Path(tempfile.mkdtemp(prefix="kaiku-scaled-site-"))
    pages = write_site(mentions, folder)
    return serve_site(port=0, directory=folder), pages
