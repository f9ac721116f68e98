r"""Kaiku's Finnish and English texts: gettext message catalogs, built with babel, for alert emails and the dashboard.

English is the source language: the msgids are the English texts (the dashboard's carry their key as msgctxt,
api/dashboard/texts.py), so English needs no catalog. Each other language has `locale/<lang>/LC_MESSAGES/kaiku.po`
(edited by translators) and the `kaiku.mo` compiled from it, committed beside it so that any install, editable
or wheel, has it (package data; tests/kaiku/test_i18n.py fails when a .mo lags its .po). After changing a text:

    pybabel extract -F kaiku/locale/babel.cfg -k text:1c,2 --no-location --omit-header --sort-output \
        -o kaiku/locale/kaiku.pot .
    pybabel update -i kaiku/locale/kaiku.pot -d kaiku/locale -D kaiku -w 120
    (translate the new entries in the .po: tests/kaiku/test_i18n.py fails on any left empty or fuzzy)
    pybabel compile -d kaiku/locale -D kaiku
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from babel.support import NullTranslations, Translations

Language = Literal["en", "fi"]
LANGUAGES: tuple[Language, ...] = ("en", "fi")
SOURCE_LANGUAGE: Language = "en"
DOMAIN = "kaiku"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


class CatalogMissing(RuntimeError):
    """A language's compiled catalog is not installed: its texts would silently come out in English."""


@cache
def translations(language: Language) -> NullTranslations:
    """The catalog of a language (English: the msgids themselves)."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    compiled = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not compiled.is_file():
        raise CatalogMissing(f"no message catalog for {language!r}: {compiled} is missing")
    with compiled.open("rb") as file:
        return Translations(file, domain=DOMAIN)
