"""`kaiku parse <source>` on saved responses of every platform, and the parsers' rules one by one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bench.platform_fakes import FIXTURES
from cli import app
from crawler.extract.mastodon import link_next
from crawler.extract.rss import parse_feed, unwrap_redirect
from crawler.spiders.registry import SPIDERS
from tests.crawler.test_cli import FIELDS  # the reviews parser's fields: every source prints the same

pytestmark = pytest.mark.unit

# The platform spiders' parsers, by spider name.
PARSERS = {name: spider.parser for name, spider in SPIDERS.items() if name != "reviews"}

APPSTORE_URL = "https://itunes.apple.com/fi/rss/customerreviews/page=1/id=1234567890/sortby=mostrecent/json"


def parse(source: str, name: str, *args: str):
    result = CliRunner().invoke(app, ["parse", source, str(FIXTURES / name), *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()], result.stderr


def summary(found: list[dict]) -> list[tuple]:
    return [(m["author"], m["published_at"], m["lang"], m["rating"]) for m in found]


def test_rss() -> None:
    found, stderr = parse("rss", "rss_feed.xml", "--url", "https://uutiset.example/matkailu/feed")
    assert [list(m) for m in found] == [FIELDS] * 3
    assert summary(found) == [
        ("Anna Korhonen", "2025-03-04T06:15:00+00:00", "fi", None),
        ("toimitus@uutiset.example (Pekka Niemi)", "2025-03-03T15:40:00+00:00", "fi", None),
        (None, "2025-03-02T10:00:00+00:00", "fi", None),
    ]
    assert found[0]["text"].endswith("Ketju kertoo palkkaavansa 40 työntekijää.")  # content:encoded over description
    assert "<" not in found[0]["text"]
    assert found[2]["title"] == "Lapin matkailu kasvaa"
    assert "no_text: item 4" in stderr


def test_google_alerts() -> None:
    found, _ = parse("rss", "google_alerts.xml")
    assert [m["url"] for m in found] == [
        "https://travelnews.example/2025/03/best-nordic-chain",
        "https://blog.example/posts/never-again",
    ]
    assert found[1]["title"] == "Why I will never stay at Revontuli Hotels again"
    assert found[1]["author"] is None  # Google Alerts leaves <name> empty


def test_rss_1_0_rdf_site_summary() -> None:
    found, stderr = parse("rss", "rss1_feed.rdf", "--url", "https://lehti.example/rss/matkailu.rdf")
    assert [list(m) for m in found] == [FIELDS] * 3
    assert summary(found) == [
        ("Maria Lahti", "2025-03-04T06:15:00+00:00", "fi", None),  # dc:creator, dc:date, the channel's dc:language
        (None, "2025-03-03T19:02:00+00:00", "fi", None),
        ("Jari Salo", "2025-03-02T10:00:00+00:00", "sv", None),  # the item's own dc:language
    ]
    assert (
        found[0]["text"]
        == "Ketju ostaa kaksi hotellia Rovaniemeltä. Revontuli Hotels kertoo kauppahinnaksi 14 miljoonaa euroa."
    )
    assert [m["url"] for m in found] == [
        "https://lehti.example/matkailu/2025/03/revontuli-rovaniemi",
        "https://ilmoitukset.example/a/8812",  # a Google Alerts redirect, unwrapped
        "https://lehti.example/matkailu/2025/03/tunturi-kesa",
    ]
    assert found[2]["text"] == found[2]["title"]  # no description: the title is the text
    assert "no_text: item 4" in stderr


def test_rss_keys_and_dates_from_dublin_core_and_redirects() -> None:
    redirect = "https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://a.example/x&amp;ct=ga&amp;usg=AOv{n}"
    feeds = [
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><dc:language>sv</dc:language>'
        f"<item><title>T</title><guid>{redirect}</guid><dc:date>2025-03-04T08:15:00+02:00</dc:date></item>"
        "</channel></rss>",
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">'
        f'<channel><title>0.90</title></channel><item rdf:about="{redirect}"><title>T</title></item></rdf:RDF>',
    ]
    for feed in feeds:
        first, second = (parse_feed(feed.replace("{n}", n).encode(), "https://a.example/feed") for n in "12")
        assert [p.key for p in first.posts] == [p.key for p in second.posts] == ["https://a.example/x"]
    assert parse_feed(feeds[0].replace("{n}", "1").encode(), "u").posts[0].published_at.isoformat() == (
        "2025-03-04T06:15:00+00:00"
    )
    assert parse_feed(feeds[0].replace("{n}", "1").encode(), "u").posts[0].lang == "sv"
    not_a_feed = '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description/></rdf:RDF>'
    assert [p.code for p in parse_feed(not_a_feed.encode(), "u").problems] == ["malformed_payload"]


@pytest.mark.parametrize("name", ["mastodon_tag_timeline.json", "mastodon_search.json"])
def test_mastodon(name: str) -> None:
    found, _ = parse("mastodon", name)
    tom = next(m for m in found if m["author"] == "tom@social.example")
    assert tom == {
        "source": "mastodon",
        "url": "https://social.example/@tom/113456700000000000",
        "author": "tom@social.example",
        "published_at": "2025-03-03T19:01:10+00:00",
        "title": "hotel rant",
        "text": "Revontuli Hotels lost my booking & then charged me twice. Never again. #revontuli",
        "rating": None,
        "rating_max": None,
        "lang": "en",
        "item_reviewed": None,
        "item_rating": None,
    }


def test_bluesky() -> None:
    found, _ = parse("bluesky", "bluesky_search_posts.json")
    assert len(found) == 6
    assert summary(found)[0] == ("matkaaja.bsky.social", "2025-03-04T07:45:12.345000+00:00", "fi", None)
    assert found[0]["url"] == "https://bsky.app/profile/matkaaja.bsky.social/post/3lja2kq7xyz2a"


def test_reddit() -> None:
    found, stderr = parse("reddit", "reddit_search.json")
    assert [(m["author"], m["published_at"]) for m in found] == [
        ("helsinki_visitor", "2025-03-04T08:00:00+00:00"),
        ("snowbound", "2025-03-03T20:00:00+00:00"),
        ("perheenisa", "2025-03-03T00:00:00+00:00"),
    ]
    assert found[1]["text"] == found[1]["title"]  # a link post: its title is its text
    assert found[0]["url"].startswith("https://www.reddit.com/r/Finland/comments/1j3fa1b/")
    assert "no_text: child 3" in stderr  # [removed]


def test_hackernews() -> None:
    found, _ = parse("hackernews", "hackernews_search_by_date.json")
    comment = found[0]
    assert comment["url"] == "https://news.ycombinator.com/item?id=43211111"
    assert comment["title"] == "Ask HN: Where do you hold company offsites?"
    assert "double-booked us. Tunturi's conference room" in comment["text"]  # <p> and &#x27; handled
    assert found[2]["text"] == found[2]["title"] == "Tunturi Inn raises prices by 30% for the ski season"


def test_appstore() -> None:
    found, stderr = parse("appstore", "appstore_customerreviews.json", "--url", APPSTORE_URL)
    assert [(m["author"], m["rating"], m["rating_max"], m["title"]) for m in found] == [
        ("Matkalainen77", 1.0, 5.0, "Kaatuu jatkuvasti"),
        ("Hiihtäjä", 5.0, 5.0, "Helppo ja nopea"),
        ("Perhe5", 3.0, 5.0, "Ihan ok"),
    ]
    assert found[0]["url"] == "https://apps.apple.com/fi/app/id1234567890?see-all=reviews#review-12088000003"
    assert found[0]["published_at"] == "2025-03-03T19:34:56+00:00"
    assert "no_text" in stderr


def test_youtube() -> None:
    found, stderr = parse("youtube", "youtube_comment_threads.json")
    assert [m["author"] for m in found] == ["@auroraHunter", "@karimatti", "@budgettraveller"]
    assert found[0]["text"].startswith("Stayed at Revontuli Hotels Levi in January & it was magical.")
    assert found[0]["url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzAbCdEfGhIjKlMnOp4AaABAg"
    assert "bad_post: item 3" in stderr


def test_youtube_comments_on_a_channel_have_no_video() -> None:
    found, stderr = parse("youtube", "youtube_channel_comment_threads.json")
    assert [(m["author"], m["url"]) for m in found] == [
        ("@snowfan", "https://www.youtube.com/watch?v=Lv1Aurora00&lc=UgyChanVideo00000000AaABAg"),
        ("@mattiv", "https://www.youtube.com/channel/UCrevontuli0000000000000"),
        ("@lappilainen", "https://www.youtube.com/channel/UCrevontuli0000000000000"),  # only the thread has an id
    ]
    assert found[1]["text"] == "Revontuli Hotels, when do you open in Rovaniemi? <3"
    assert "bad_post: item 4: neither a video nor a channel" in stderr
    body = (FIXTURES / "youtube_channel_comment_threads.json").read_bytes()
    page = PARSERS["youtube"](body, "https://yt.example/youtube/v3/commentThreads?allThreadsRelatedToChannelId=UCq")
    assert [p.key for p in page.posts][1:] == [
        "UgzChannelOnly0000000AaABAg",
        "UgxThreadIdOnly000000AaABAg",
        "UgwNoChannelNoVideo00AaABAg",  # the channel asked for is the link
    ]
    assert page.posts[3].url == "https://www.youtube.com/channel/UCq" and page.problems == []


@pytest.mark.parametrize("source", sorted(PARSERS))
def test_a_malformed_file_is_a_warning_not_an_error(source: str, tmp_path) -> None:
    path = tmp_path / "broken"
    path.write_bytes(b'{"posts": [{"uri": "at://x/app.bsky.feed.post/1", "record": {"te')
    result = CliRunner().invoke(app, ["parse", source, str(path)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "malformed_payload" in result.stderr


def test_an_api_error_body_is_reported() -> None:
    page = PARSERS["youtube"](b'{"error": {"code": 403, "errors": [{"reason": "quotaExceeded"}]}}', "u")
    assert [p.message for p in page.problems] == ["API error: quotaExceeded"]


def test_redirect_unwrapping() -> None:
    assert unwrap_redirect("https://www.google.com/url?rct=j&sa=t&url=https://a.example/x%3Fy%3D1&ct=ga") == (
        "https://a.example/x?y=1"
    )
    assert unwrap_redirect("https://www.google.com/url?q=https://b.example/&sa=U") == "https://b.example/"
    assert unwrap_redirect("https://www.google.com/url?url=javascript:alert(1)") == (
        "https://www.google.com/url?url=javascript:alert(1)"
    )
    assert (
        unwrap_redirect("https://news.example/url?url=https://x.example")
        == "https://news.example/url?url=https://x.example"
    )


def test_feeds_do_not_resolve_external_entities(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    feed = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<rss><channel><item><title>Revontuli &x;</title><link>https://a.example/1</link></item></channel></rss>"
    )
    page = parse_feed(feed.encode(), "https://a.example/feed")
    assert all("TOP SECRET" not in post.text for post in page.posts)


def test_link_header() -> None:
    header = (
        '<https://m.example/api/v1/timelines/tag/x?max_id=7>; rel="next", <https://m.example/x?min_id=9>; rel="prev"'
    )
    assert link_next(header) == "https://m.example/api/v1/timelines/tag/x?max_id=7"
    assert link_next('<https://m.example/x?min_id=9>; rel="prev"') is None
    assert link_next(None) is None and link_next("garbage") is None


@pytest.mark.parametrize(
    ("source", "name", "expected"),
    [
        ("mastodon", "mastodon_tag_timeline.json", (7, 2, 1, 312)),  # favourites, replies, reblogs, followers
        ("bluesky", "bluesky_search_posts.json", (12, 1, 0, None)),  # likes, replies, reposts + quotes
        ("reddit", "reddit_search.json", (42, 17, None, None)),  # score, num_comments
        ("hackernews", "hackernews_search_by_date.json", (None, None, None, None)),  # a comment: no points
        ("appstore", "appstore_customerreviews.json", (0, None, None, None)),  # helpful votes
        ("youtube", "youtube_comment_threads.json", (14, 2, None, None)),  # likeCount, totalReplyCount
    ],
)
def test_engagement_and_reach_of_the_first_post(source: str, name: str, expected: tuple) -> None:
    post = PARSERS[source]((FIXTURES / name).read_bytes(), APPSTORE_URL).posts[0]
    assert (*post.engagement.model_dump().values(), post.author_followers) == expected


def test_hackernews_story_points() -> None:
    story = PARSERS["hackernews"]((FIXTURES / "hackernews_search_by_date.json").read_bytes(), "u").posts[1]
    assert (story.engagement.likes, story.engagement.replies) == (87, 12)
