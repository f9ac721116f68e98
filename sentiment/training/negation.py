"""Negated review sentences, Finnish and English, built from templates to teach the head negation.

XED and UCI have few negated verdicts, and e5 embeddings of "en suosittele" (I do not recommend)
sit close to those of "suosittele" (recommend): a head trained on them alone calls
"Kamala kokemus, en suosittele kenellekään." positive. These templates pair review openers with
negated clauses in both directions:
  * a negated praise ("en suosittele", "not worth the money") is **negative**;
  * a negated complaint ("ei yhtään huono", "no complaints") is **positive** (litotes praises).
Every (opener, clause) combination is one example. A fixed, seeded fifth of them is held out
(`split_negation`) and never trained on, and the two sentences the issue names are always in it.
"""

from __future__ import annotations

import random

from sentiment.training.data import Example

OPENERS = {
    ("fi", "negative"): (
        "Kamala kokemus",
        "Huono palvelu",
        "Pettymys",
        "Karmea hotelli",
        "Surkea ravintola",
        "Tilasin tämän netistä",
        "Kävimme siellä eilen",
        "Ostin tuotteen viime viikolla",
        "Asiakaspalvelu vastasi vasta viikon päästä",
        "Ruoka tuli kylmänä",
        "Huone oli likainen",
        "Paketti tuli myöhässä",
    ),
    ("fi", "positive"): (
        "Hotelli",
        "Ruoka",
        "Palvelu",
        "Tuote",
        "Hinta",
        "Kokemus",
        "Huone",
        "Toimitus",
    ),
    ("en", "negative"): (
        "Terrible experience",
        "Bad service",
        "What a letdown",
        "Awful hotel",
        "We ordered the pasta",
        "Stayed here last week",
        "Bought this for my son",
        "Support answered after a week",
        "The food arrived cold",
        "The room was dirty",
        "Delivery was late",
        "Tried it twice",
    ),
    ("en", "positive"): (
        "The hotel",
        "The food",
        "Service",
        "The product",
        "The price",
        "Our stay",
        "The room",
        "Delivery",
    ),
}
CLAUSES = {
    ("fi", "negative"): (
        "en suosittele kenellekään",
        "en suosittele",
        "en voi suositella",
        "ei kannata",
        "en mene enää koskaan",
        "en osta enää",
        "ei toiminut ollenkaan",
        "ei ollut rahan arvoinen",
        "ei vastannut odotuksia",
        "en ole tyytyväinen",
        "ei ollut yhtään hyvä",
        "ei mitään hyvää sanottavaa",
    ),
    ("fi", "positive"): (
        "ei yhtään huono",
        "ei ollenkaan paha",
        "ei valittamista",
        "ei moitittavaa",
        "ei ollut yhtään huono",
        "ei mitään valittamista",
        "en kadu yhtään",
        "en ollut pettynyt",
        "ei pettänyt odotuksia",
        "ei ongelmia",
    ),
    ("en", "negative"): (
        "I would not recommend it to anyone",
        "would not recommend",
        "I can't recommend it",
        "not worth it",
        "never going back",
        "won't buy again",
        "did not work at all",
        "not worth the money",
        "did not meet expectations",
        "not happy with it",
        "not good at all",
        "nothing good to say",
    ),
    ("en", "positive"): (
        "not bad at all",
        "not bad",
        "no complaints",
        "nothing to complain about",
        "wasn't bad at all",
        "no complaints whatsoever",
        "no regrets at all",
        "not disappointed",
        "didn't disappoint",
        "no problems",
    ),
}
# The issue's own examples: held out, so the test that checks them checks generalisation.
ALWAYS_HELD_OUT = frozenset({"Kamala kokemus, en suosittele kenellekään.", "Ei yhtään huono."})
SOURCE = "negation"


def _sentence(opener: str | None, clause: str) -> str:
    if opener is None:
        return clause[0].upper() + clause[1:] + "."
    return f"{opener}, {clause}."


def negation_examples() -> list[Example]:
    """Every template sentence: each clause alone and after each opener of its language and label."""
    examples = []
    for (lang, label), clauses in CLAUSES.items():
        for clause in clauses:
            for opener in (None, *OPENERS[(lang, label)]):
                examples.append(Example(_sentence(opener, clause), label, lang, SOURCE))
    return examples


def split_negation(seed: int, held_fraction: float = 0.2) -> tuple[list[Example], list[Example]]:
    """(train, held) with a seeded share held out per language and label, ALWAYS_HELD_OUT among the held."""
    rng = random.Random(seed)
    train: list[Example] = []
    held: list[Example] = []
    groups: dict[tuple[str, str], list[Example]] = {}
    for example in negation_examples():
        groups.setdefault((example.lang, example.label), []).append(example)
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        forced = [example for example in members if example.text in ALWAYS_HELD_OUT]
        rest = [example for example in members if example.text not in ALWAYS_HELD_OUT]
        cut = max(0, round(len(members) * held_fraction) - len(forced))
        held += forced + rest[:cut]
        train += rest[cut:]
    return train, held
