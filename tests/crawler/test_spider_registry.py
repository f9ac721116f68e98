"""Each spider is declared once: the registry, the config's sources and the mention's `source` agree, and no
other module keeps its own list of spider names."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
import scrapy

import crawler.spiders
from core.config import SOURCE_MODELS, load_config, spider_of
from core.mention import SOURCE_NAMES
from crawler.politeness import Budget
from crawler.spiders.registry import SPIDERS

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "kaiku", "crawler", "sentiment", "indexer", "api")
# Where spider names may be written: the type of a mention's `source` and the tags of the sources' models.
DECLARED_IN = {"core/mention.py", "core/config.py"}


def test_the_registry_the_config_and_the_mention_name_the_same_spiders() -> None:
    assert tuple(SPIDERS) == SOURCE_NAMES
    assert tuple(spider_of(model) for model in SOURCE_MODELS) == SOURCE_NAMES


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_each_spider_declares_its_name_source_budget_and_parser(name: str) -> None:
    spider = SPIDERS[name]  # type: ignore[index]
    assert spider.name == name == spider_of(spider.source_model)
    assert isinstance(spider.budget, Budget) and spider.budget.requests_per_minute > 0
    parsed = spider.parser(b"", "https://example.test/")  # a parser never raises, on nothing either
    assert parsed.problems or not getattr(parsed, "posts", getattr(parsed, "reviews", None))


def test_every_spider_class_is_registered() -> None:
    defined = set()
    for module_info in pkgutil.iter_modules(crawler.spiders.__path__):
        module = importlib.import_module(f"crawler.spiders.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, scrapy.Spider) and cls.__module__ == module.__name__ and "name" in vars(cls):
                defined.add(cls)
    assert defined == set(SPIDERS.values())


def test_no_module_keeps_its_own_list_of_spider_names() -> None:
    """A second spider name in a string of one module is a list that the registry does not feed."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in DECLARED_IN:
                continue
            constants = ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            names = {n.value for n in constants if isinstance(n, ast.Constant) and n.value in SOURCE_NAMES}
            if len(names) > 1:
                found[relative] = sorted(names)
    assert found == {}


def test_the_sample_sources_use_registered_spiders() -> None:
    config = load_config(ROOT / "configs")
    assert {source.spider for source in config.sources} <= set(SPIDERS)
