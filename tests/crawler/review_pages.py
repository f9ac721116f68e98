"""A long review page built to lose reviews every way a real one has: shared by the extraction and e2e tests.

80 distinct reviews of one hotel (85 review nodes: 5 are the same reviews again in microdata):

- one JSON-LD block, the hotel with 16 reviews in its `review` list, written by a plugin that puts the page's
  own URL and one `@id` on every review, leaves out `@type` and ratings on some, dates some with
  `dateCreated` or `dateModified` only, and ends its list with a trailing comma; two of them are the same
  "Great!" by "Anonymous" on one day, one is only a headline, one is 60,000 characters long;
- four JSON-LD blocks of one review each, each with a slip: a no-break space between tokens, an HTML
  comment, PHP's `\\'`, a control character;
- a microdata thread of 60 short, similar comments, each a reply to the one before and each leaving one
  `<div>` unclosed, inside a page builder's wrappers, so that the last ones sit deeper than libxml2's
  default limit of 256 nested elements;
- five of the JSON-LD list's reviews again in microdata, with a date instead of a timestamp.
"""

from __future__ import annotations

import json

LONG_PAGE_REVIEWS = 80
HOTEL = "Tunturi Inn Ylläs"


def _list_reviews(page_url: str) -> list[dict]:
    reviews: list[dict] = []
    for number in range(1, 12):
        review = {
            "@type": "Review",
            "@id": f"{page_url}#review",
            "url": page_url,
            "author": {"@type": "Person", "name": f"Vieras {number}"},
            "dateCreated": f"2025-01-{number:02d} 12:00:00",
            "reviewBody": f"Arvio numero {number}: huone oli {'siisti' if number % 2 else 'kylmä'}.",
        }
        if number % 3:
            review["reviewRating"] = {"@type": "Rating", "ratingValue": str(1 + number % 5), "bestRating": "5"}
        if number == 4:
            del review["@type"]
        if number == 5:
            review["dateModified"] = review.pop("dateCreated")
        reviews.append(review)
    great = {"@type": "Review", "author": "Anonymous", "datePublished": "2025-01-20", "reviewBody": "Great!"}
    reviews += [great, dict(great)]
    reviews.append({"@type": "Review", "author": "Jussi", "dateCreated": "2025-01-21", "name": "Ei enää koskaan."})
    reviews.append({"@type": "Review", "author": "Pitkä", "reviewBody": "Kerron kaiken. " * 4000})
    reviews.append({"@type": "Review", "author": "Viimeinen", "dateCreated": "2025-01-23", "reviewBody": "Loppu."})
    return reviews


def _single_blocks() -> list[str]:
    def block(author: str, text: str) -> str:
        return json.dumps(
            {"@context": "https://schema.org", "@type": "Review", "itemReviewed": {"@type": "Hotel", "name": HOTEL},
             "author": author, "reviewBody": text}, ensure_ascii=False
        )  # fmt: skip

    return [
        block("Nbsp", "Välilyönti.").replace(', "author"', ',\u00a0"author"'),
        block("Kommentti", "Kommentti.").replace(', "author"', ', <!-- plugin v2 --> "author"'),
        block("Php", "It's fine.").replace("It's", "It\\'s"),
        block("Ohjaus", "Ohjausmerkki.").replace(', "author"', ',\x0b"author"'),
    ]


def _thread(depth: int) -> str:
    opening = []
    for number in range(1, depth + 1):
        text = "Hyvä." if number % 2 else "Hyvä!"  # short and alike: two opinions each, not copies
        opening.append(
            f'<li class="comment depth-{number}" itemprop="review" itemscope itemtype="https://schema.org/Review">'
            f'<div class="comment-body"><meta itemprop="author" content="Ketju {number}">'
            f'<time itemprop="dateCreated" datetime="2025-02-{1 + number % 28:02d}">.</time>'
            f'<div itemprop="description"><p>{text} ({number})</p></div>'
            '<div class="reply">'  # the template's unclosed div
            '<ol class="children">'
        )
    return "".join(opening) + "</ol></div></li>" * depth


def _microdata_copies(reviews: list[dict]) -> str:
    copies = []
    for review in reviews[:5]:
        date = (review.get("dateCreated") or review.get("dateModified")).split()[0]
        copies.append(
            '<div itemprop="review" itemscope itemtype="http://schema.org/Review">'
            f'<span itemprop="author">{review["author"]["name"]}</span><meta itemprop="datePublished" content="{date}">'
            f'<p itemprop="reviewBody">{review["reviewBody"]}</p></div>'
        )
    return "".join(copies)


def long_review_page(page_url: str) -> str:
    reviews = _list_reviews(page_url)
    hotel = {"@context": "https://schema.org", "@type": "Hotel", "name": HOTEL, "review": reviews}
    listing = json.dumps(hotel, ensure_ascii=False, indent=1)
    listing = listing[: listing.rindex("]")] + ",\n ]\n}"  # the plugin's trailing comma
    scripts = [listing, *_single_blocks()]
    head = "".join(f'<script type="application/ld+json">{script}</script>' for script in scripts)
    builder = 20  # a page builder's nested sections, columns and widget wrappers
    return (
        f'<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8"><title>{HOTEL}</title>{head}</head><body>'
        f'<div itemscope itemtype="https://schema.org/Hotel"><h1 itemprop="name">{HOTEL}</h1>'
        f"{_microdata_copies(reviews)}"
        + '<div class="elementor-element">' * builder
        + f'<ol class="comment-list">{_thread(60)}</ol>'
        + "</div>" * builder
        + "</div></body></html>"
    )
