"""No input crashes a platform parser: whatever the bytes, a `PostPage` comes back (hypothesis)."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.platform_fakes import fixture
from crawler.extract.posts import PostPage
from crawler.spiders.registry import SPIDERS

pytestmark = pytest.mark.unit

# The platform spiders' parsers, by spider name.
PARSERS = {name: spider.parser for name, spider in SPIDERS.items() if name != "reviews"}

RECORDED = {
    "rss": "rss_feed.xml",
    "mastodon": "mastodon_tag_timeline.json",
    "bluesky": "bluesky_search_posts.json",
    "reddit": "reddit_search.json",
    "hackernews": "hackernews_search_by_date.json",
    "appstore": "appstore_customerreviews.json",
    "youtube": "youtube_comment_threads.json",
}
# KAIKU_FUZZ_EXAMPLES=1000 for a longer search than the suite's.
EXAMPLES = int(os.environ.get("KAIKU_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)


def check(source: str, body: bytes) -> None:
    page = PARSERS[source](body, "https://example.test/feed")
    assert isinstance(page, PostPage)
    for post in page.posts:
        assert post.text and post.key and post.url


@pytest.mark.parametrize("source", sorted(PARSERS))
@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes(source: str, body: bytes) -> None:
    check(source, body)


@pytest.mark.parametrize("source", sorted(PARSERS))
@FUZZ
@given(value=json_values)
def test_any_json(source: str, value: object) -> None:
    check(source, json.dumps(value).encode())


# Further recorded shapes: RSS 1.0 (RDF), comments on a YouTube channel.
MORE_RECORDED = [("rss", "rss1_feed.rdf"), ("youtube", "youtube_channel_comment_threads.json")]


@pytest.mark.parametrize(("source", "name"), sorted(RECORDED.items()) + MORE_RECORDED)
@FUZZ
@given(data=st.data())
def test_recorded_responses_cut_or_corrupted(source: str, name: str, data: st.DataObject) -> None:
    body = fixture(name)
    cut = data.draw(st.integers(0, len(body)))
    flip = data.draw(st.integers(0, len(body) - 1))
    corrupted = body[:flip] + bytes([body[flip] ^ data.draw(st.integers(1, 255))]) + body[flip + 1 :]
    check(source, body[:cut])
    check(source, corrupted)


WRONG_VALUES = (None, "", " ", "x", 0, -1, 2**70, 1.5e308, True, [], {}, [None], {"label": None}, "2025-13-45", "<p>")


@pytest.mark.parametrize("source", ["mastodon", "bluesky", "reddit", "hackernews", "appstore", "youtube"])
@FUZZ
@given(chaos=st.randoms(use_true_random=False), rate=st.sampled_from([0.02, 0.1, 0.3]))
def test_recorded_responses_with_values_replaced(source: str, chaos, rate: float) -> None:
    """Any value of a recorded payload may be swapped for a value of the wrong type, null, empty, huge…"""
    document = json.loads(fixture(RECORDED[source]))

    def mutate(node: object) -> object:
        if chaos.random() < rate:
            return chaos.choice(WRONG_VALUES)
        if isinstance(node, dict):
            return {key: mutate(value) for key, value in node.items()}
        if isinstance(node, list):
            return [mutate(value) for value in node]
        return node

    check(source, json.dumps(mutate(document)).encode())
