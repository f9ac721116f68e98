"""`kaiku parse` on pages in the style of real review sites, and `kaiku crawl` failing clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from core.settings import get_settings
from tests.crawler.conftest import PAGES

pytestmark = pytest.mark.unit

FIELDS = [
    "source",
    "url",
    "author",
    "published_at",
    "title",
    "text",
    "rating",
    "rating_max",
    "lang",
    "item_reviewed",
    "item_rating",
]


def parse(*args: str):
    return CliRunner().invoke(app, ["parse", "reviews", *args])


def mentions(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_tripadvisor_style_page() -> None:
    result = parse(str(PAGES / "tripadvisor_style.html"), "--url", "https://www.tripadvisor.example/Hotel_Review-d1")
    assert result.exit_code == 0, result.output
    found = mentions(result.stdout)
    assert [list(m) for m in found] == [FIELDS] * 3
    assert [(m["author"], m["rating"], m["lang"]) for m in found] == [
        ("WanderingScot82", 3.0, "en"),
        ("Liisa M", 2.0, "fi"),
        ("NordicNomad", 5.0, "en"),
    ]
    assert "tired – stained carpet" in found[0]["text"] and "\n" not in found[0]["text"]
    assert found[2]["text"].endswith("Can't wait to come back!")
    assert all(m["source"] == "reviews" and m["url"].startswith("https://www.tripadvisor.example/") for m in found)


def test_trustpilot_style_graph() -> None:
    result = parse(
        str(PAGES / "trustpilot_style.html"), "--url", "https://fi.trustpilot.example/review/tunturi.example"
    )
    found = mentions(result.stdout)
    assert [(m["title"], m["rating"], m["lang"]) for m in found] == [
        ("Unohtumaton viikonloppu", 5.0, "fi"),
        ("Laskutusvirhe", 1.0, "fi"),
        ("Fine", 3.0, "en"),
    ]
    assert found[1]["author"] == "J. Räsänen"  # ensure_ascii=False keeps it readable
    assert "Räsänen" in result.stdout
    assert found[0]["published_at"] == "2025-03-22T18:04:11+00:00"


def test_google_style_examples() -> None:
    result = parse(str(PAGES / "google_style.html"), "--url", "https://cafe.example/")
    found = mentions(result.stdout)
    assert [(m["author"], m["rating"], m["rating_max"]) for m in found] == [
        ("Lilly Anderson", 4.0, 5.0),
        ("Lahjakortit.example", 8.2, 10.0),  # 8 on 0..10 mapped onto 1..10
        ("anonymous", None, None),
        ("Matkailulehti", 4.5, 5.0),
    ]
    assert found[3]["url"] == "https://matkailulehti.example/arvio/revontuli-helsinki"
    assert found[3]["text"] == "Quiet rooms despite the central address. Breakfast is the highlight."
    assert "unreadable date 'sometime last winter'" in result.stderr


def test_microdata_shop_page_in_windows_1252() -> None:
    result = parse(str(PAGES / "microdata_shop.html"), "--url", "https://kauppa.example/lahjakortti")
    assert result.exit_code == 0
    found = mentions(result.stdout)
    assert [(m["author"], m["rating"], m["title"]) for m in found] == [
        ("Marjatta", 4.5, "Hyvä lahja"),
        ("Timo", None, None),
    ]
    assert found[0]["text"] == "Annoin lahjaksi vanhemmille. He viihtyivät ja kehuivat erityisesti saunaa."
    assert "no reviewBody or description" in result.stderr
    assert "not a number: 'lots'" in result.stderr


def test_review_widget_pages_with_the_text_in_description() -> None:
    """Bazaarvoice's server-rendered block and a WordPress recipe's comment ratings: 0 of 13 found before."""
    result = parse(str(PAGES / "bazaarvoice_style.html"), "--url", "https://shop.revontuli.example/p/spa-weekend")
    found = mentions(result.stdout)
    assert [(m["author"], m["rating"], m["rating_max"]) for m in found] == [
        ("KatieW", 5.0, 5.0),
        ("Paul from Leeds", 2.0, 5.0),
        ("Margaret", 4.0, 5.0),
        ("Disappointed", 1.0, 5.0),
        ("Ilona", 5.0, 5.0),
        ("Tom", 4.0, 5.0),
        ("Grandma J", 4.0, 5.0),
    ]
    assert found[0]["text"] == (
        "We used the voucher in Levi for our tenth anniversary. "
        "The sauna suite was spotless & the staff remembered our names. Magical weekend."
    )
    assert (found[0]["title"], found[0]["published_at"]) == ("Best anniversary present", "2025-02-16T00:00:00+00:00")
    # Outside the product's scope: their own itemReviewed, else the page's one product.
    assert {m["item_reviewed"] for m in found} == {"Revontuli Hotels Spa Weekend for Two"}

    result = parse(str(PAGES / "wordpress_recipe_comments.html"), "--url", "https://keittio.example/lohikeitto/")
    found = mentions(result.stdout)
    assert [(m["author"], m["rating"], m["published_at"]) for m in found] == [
        ("Sanna K.", 5.0, "2025-01-12T16:22:10+00:00"),
        ("Pohjoisen keittiö", None, "2025-01-12T18:05:00+00:00"),  # a reply nested in Sanna's comment
        ("Jarmo", 3.0, "2025-01-20T07:41:33+00:00"),
        ("Eeva", 4.0, "2025-02-02T10:00:00+00:00"),
        ("Mervi", 5.0, "2025-02-14T19:13:00+00:00"),
        ("Tiina", None, "2025-02-20T05:30:00+00:00"),
    ]
    assert all(m["item_reviewed"] == "Lohikeitto Revontuli Hotelsin tapaan" for m in found)  # through itemref
    assert found[0]["item_rating"] == {"value": 4.25, "max": 5.0, "count": 4}
    assert found[0]["url"] == "https://keittio.example/lohikeitto/#comment-41"
    assert found[0]["text"] == "Juuri kuten hotellissa Levillä! Lisäsin tilkan savulohta, ja perhe kehui."
    assert result.stderr == ""


def test_review_plugin_json_ld_with_date_created_and_no_ratings() -> None:
    """Half of these were lost before: untyped and headline-only entries, and one shared address for all."""
    result = parse(str(PAGES / "site_reviews_style.html"), "--url", "https://tunturi-inn.example/arviot/")
    found = mentions(result.stdout)
    assert [(m["author"], m["published_at"], m["rating"]) for m in found] == [
        ("Riikka", "2025-01-08T14:02:11+00:00", 5.0),
        ("Olli", "2025-01-11T09:45:00+00:00", None),
        ("Hannele", "2025-01-19T20:10:42+00:00", 2.0),
        ("Pertti", "2025-01-26T08:00:00+00:00", None),  # no @type in the hotel's review list
        ("Vieras", "2025-02-02T08:15:00+00:00", None),  # dateModified only
        ("Kaisa", "2025-02-09T14:40:00+00:00", 3.0),
        ("Jussi", "2025-02-14T10:00:00+00:00", None),  # only a headline, and "review" in lower case
        ("Leena", "2025-02-20T00:00:00+00:00", None),  # uploadDate
    ]
    assert len({m["url"] for m in found}) == 8  # the plugin's one url and @id on every review are not theirs
    assert all(m["item_reviewed"] == "Tunturi Inn Ylläs" for m in found)
    assert result.stderr == ""


def test_a_page_without_reviews_is_a_note_and_exit_0(tmp_path: Path) -> None:
    empty = tmp_path / "plain.html"
    empty.write_text("<html><body><p>Hei</p></body></html>", encoding="utf-8")
    result = parse(str(empty))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no schema.org reviews" in result.stderr


def test_unreadable_file_and_unknown_parser_exit_2(tmp_path: Path) -> None:
    missing = parse(str(tmp_path / "missing.html"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    folder = parse(str(tmp_path))
    assert folder.exit_code == 2
    unknown = CliRunner().invoke(app, ["parse", "tweets", str(PAGES / "google_style.html")])
    assert unknown.exit_code == 2 and "unknown parser 'tweets'" in unknown.stderr


@pytest.fixture
def crawl_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KAIKU_ELASTICSEARCH_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, ["crawl", *args])
    get_settings.cache_clear()


def test_crawl_with_an_unreachable_engine_exits_2_before_loading_the_model(crawl_cli) -> None:
    result = crawl_cli("demo-reviews")
    assert result.exit_code == 2
    assert "not reachable" in result.output
    assert "Traceback" not in result.output


def test_crawl_of_an_unknown_source_names_the_known_ones(crawl_cli) -> None:
    result = crawl_cli("nope")
    assert result.exit_code == 2
    assert (
        "unknown source 'nope' (known: demo-reviews; or a spider name: "
        "reviews, rss, mastodon, bluesky, reddit, hackernews, appstore, youtube)"
    ) in result.output


def test_crawl_by_spider_name_reaches_the_engine_check(crawl_cli) -> None:
    # `kaiku crawl reviews` selects every source of the reviews spider; it gets as far as the engine.
    result = crawl_cli("reviews")
    assert result.exit_code == 2
    assert "not reachable" in result.output


def test_crawl_with_a_broken_config_exits_2(crawl_cli, tmp_path: Path) -> None:
    (tmp_path / "brands.yaml").write_text("brands: [{id: x}]\n", encoding="utf-8")
    result = crawl_cli("demo-reviews", "--config", str(tmp_path))
    assert result.exit_code == 2
    assert "brands.yaml" in result.output
