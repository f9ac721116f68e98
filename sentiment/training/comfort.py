"""Ordinary review verdicts, Finnish and English, built from templates to teach the head the comfort zone.

XED's neutral lines are conversational subtitles ("Let's go home."), not reviews; the head trained on
them alone still reads a plain review verdict as praise. These templates pair review subjects with
middling verdicts ("was average", "vastasi odotuksia", "oli ihan ok"), plus some verdicts standing
alone, all labelled **neutral**. "ok" / "okay" and "nothing special" are among them on purpose: e5
places them near praise, and they are what the comfort zone most often sounds like.
A fixed, seeded fifth is held out (`split_comfort`) and never trained on.
The behavioural table in tests/sentiment/test_behaviour.py was written apart from these templates
and shares no sentence with them.
"""

from __future__ import annotations

import random

from sentiment.training.data import Example

SUBJECTS = {
    "fi": ("Huone", "Aamiainen", "Palvelu", "Sijainti", "Sänky", "Toimitus", "Hinta", "Kokemus"),
    "en": ("The room", "Breakfast", "The service", "The location", "The bed", "Delivery", "The price", "Our stay"),
}
VERDICTS = {
    "fi": (
        "oli ihan tavallinen",
        "oli keskinkertainen",
        "oli kohtuullinen",
        "vastasi odotuksia",
        "oli sitä mitä luvattiin",
        "oli riittävä",
        "ei ollut mitenkään erityinen",
        "oli perustasoa",
        "oli ihan ok",
        "ei ollut mitään erikoista",
    ),
    "en": (
        "was average",
        "was adequate",
        "was as expected",
        "was ordinary",
        "was acceptable",
        "was unremarkable",
        "was what we paid for",
        "was standard",
        "was okay",
        "was fine, nothing more",
    ),
}
ALONE = {
    "fi": (
        "Ei kehuttavaa eikä moitittavaa.",
        "Perusmeininki.",
        "Mitään ihmeellistä ei ollut.",
        "Ihan perus.",
        "Tavallinen paikka.",
        "Keskitasoa kaikin puolin.",
        "Ok, ei sen kummempaa.",
        "Ihan jees, ei mitään ihmeellistä.",
    ),
    "en": (
        "Nothing to write home about.",
        "Neither good nor bad.",
        "About what you would expect.",
        "Middle of the road.",
        "An ordinary place.",
        "Average in every way.",
        "Okay, nothing more.",
        "Nothing special about it.",
    ),
}
SOURCE = "comfort"


def comfort_examples() -> list[Example]:
    """Every template sentence: each subject with each verdict, and the verdicts that stand alone."""
    examples = []
    for lang, subjects in SUBJECTS.items():
        for subject in subjects:
            for verdict in VERDICTS[lang]:
                examples.append(Example(f"{subject} {verdict}.", "neutral", lang, SOURCE))
        examples += [Example(text, "neutral", lang, SOURCE) for text in ALONE[lang]]
    return examples


def split_comfort(seed: int, held_fraction: float = 0.2) -> tuple[list[Example], list[Example]]:
    """(train, held) with a seeded share of each language held out."""
    rng = random.Random(seed)
    train: list[Example] = []
    held: list[Example] = []
    for lang in SUBJECTS:
        members = [example for example in comfort_examples() if example.lang == lang]
        rng.shuffle(members)
        cut = round(len(members) * held_fraction)
        held += members[:cut]
        train += members[cut:]
    return train, held
