"""Near-duplicates among short, templated, real-looking reviews: false marks and recall (crawler/dedup.py).

    python bench/dedup_reviews.py [--pairs 300] [--seed 1] [--thresholds 0.8,0.85,0.9]

bench/dedup_quality.py draws random words, so two unrelated texts can hardly collide. Real short reviews do
collide: guests write from the same few phrases ("Great stay, friendly staff." / "Great stay, rude staff.").
Here a review is 1-4 sentences drawn from 12 English or 12 Finnish sentence templates, each with slots
(adjectives of either polarity, numbers, places, months). For each language and number of sentences it prints
the share of pairs that the crawl's near-duplicate check (`signature`, its bands and `SeenTexts.find`, as
`NearDuplicatePipeline` calls them) marks as copies:

false near-duplicates (two different reviews; any mark is wrong)
  1 slot   the same sentences with one slot changed ("friendly" -> "rude", "2 nights" -> "5 nights")
  2 slots  two slots changed
  redrawn  the same sentence templates, every slot drawn again (another guest using the same phrases)
  other    another review of the same length (its own templates and slots)
recall on true near-duplicates (reposts; every one should be marked)
  case     the repost lowercased or in capitals
  punct    punctuation changed (commas dropped, "!" for ".", "!!" added)
  typo     one letter of one word dropped, doubled or swapped with the next
  sig      a signature line appended ("Sent from my iPhone", "Lähetetty iPhonesta", …)
  word     one word inserted ("really", "tosi", …)
  two      two of the edits above

Texts under the signing length (crawler.dedup.MIN_CHARS) are never marked: the `signed` column is the share of
reviews long enough to be signed at all. With --thresholds it repeats the table for other thresholds
(SeenTexts(threshold)), the same pairs each time.
"""

from __future__ import annotations

import argparse
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from crawler.dedup import DEFAULT_THRESHOLD, SeenTexts, signature

Slots = dict[str, list[str]]

GOOD_BAD_EN = {
    "overall": ["Great", "Lovely", "Wonderful", "Pleasant", "Okay", "Decent", "Terrible", "Awful", "Disappointing"],
    "staff": ["friendly", "rude", "helpful", "unhelpful", "slow", "attentive", "kind", "grumpy"],
    "thing": ["room", "bathroom", "bed", "lobby", "pool", "sauna", "corridor"],
    "state": ["clean", "dirty", "spotless", "cold", "noisy", "comfortable", "tiny", "spacious", "smelly"],
    "food": ["excellent", "terrible", "fine", "varied", "poor", "delicious", "cold"],
    "coffee": ["good", "weak", "cold", "great", "awful"],
    "n": [str(n) for n in range(2, 46)],
    "place": ["station", "centre", "beach", "airport", "harbour", "old town"],
    "price": ["fair", "too high", "reasonable", "a rip-off", "a bargain"],
    "month": ["January", "March", "May", "June", "July", "August", "October", "December"],
    "again": ["Would come again.", "Will never come back.", "Highly recommended.", "Not recommended.",
              "We will be back!", "Avoid."],
}  # fmt: skip
TEMPLATES_EN = [
    "{overall} stay, {staff} staff.",
    "The {thing} was {state}.",
    "Breakfast was {food} and the coffee {coffee}.",
    "Check-in took {n} minutes.",
    "{again}",
    "Location is great, {n} minutes from the {place}.",
    "The price was {price} for what you get.",
    "We stayed {n} nights in {month}.",
    "Our {thing} was {state} and the staff {staff}.",
    "{overall} experience overall.",
    "Reception staff were {staff} when we arrived.",
    "The {thing} could have been more {state}.",
]
GOOD_BAD_FI = {
    "overall": ["Mahtava", "Ihana", "Mukava", "Ihan ok", "Kelvollinen", "Kamala", "Surkea", "Pettymys"],
    "staff": ["ystävällinen", "töykeä", "avulias", "hidas", "kohtelias", "välinpitämätön", "iloinen"],
    "thing": ["Huone", "Kylpyhuone", "Sänky", "Aula", "Uima-allas", "Sauna", "Käytävä"],
    "state": ["siisti", "likainen", "kylmä", "meluisa", "tilava", "ahdas", "viihtyisä", "tunkkainen"],
    "food": ["erinomainen", "surkea", "ihan hyvä", "monipuolinen", "niukka", "herkullinen"],
    "coffee": ["hyvää", "laimeaa", "kylmää", "loistavaa", "pahaa"],
    "n": [str(n) for n in range(2, 46)],
    "place": ["asemalta", "keskustasta", "rannalta", "lentokentältä", "satamasta", "torilta"],
    "price": ["kohtuullinen", "liian kova", "edullinen", "törkeä", "sopiva"],
    "month": ["tammikuussa", "maaliskuussa", "toukokuussa", "kesäkuussa", "heinäkuussa", "joulukuussa"],
    "again": ["Tulemme varmasti uudelleen.", "Emme tule enää koskaan.", "Voin suositella.", "En suosittele.",
              "Ehdottomasti takaisin!", "Vältä."],
}  # fmt: skip
TEMPLATES_FI = [
    "{overall} reissu, {staff} henkilökunta.",
    "{thing} oli {state}.",
    "Aamiainen oli {food} ja kahvi {coffee}.",
    "Sisäänkirjautuminen kesti {n} minuuttia.",
    "{again}",
    "Sijainti on hyvä, {n} minuuttia {place}.",
    "Hinta oli {price} laatuun nähden.",
    "Olimme {n} yötä {month}.",
    "{thing} oli {state} ja henkilökunta {staff}.",
    "{overall} kokemus kaiken kaikkiaan.",
    "Vastaanoton väki oli {staff} kun saavuimme.",
    "{thing} ei ollut kovin {state}.",
]
LANGUAGES: dict[str, tuple[list[str], Slots]] = {"en": (TEMPLATES_EN, GOOD_BAD_EN), "fi": (TEMPLATES_FI, GOOD_BAD_FI)}
SIGNATURES = ["Sent from my iPhone", "Lähetetty iPhonesta", "-- Posted via TripAdvisor app", "Lähetetty Androidista"]
INSERTED = {"en": ["really", "very", "honestly", "quite"], "fi": ["tosi", "todella", "aika", "kyllä"]}
SLOT = re.compile(r"{(\w+)}")


@dataclass
class Review:
    lang: str
    templates: list[str]
    values: list[dict[str, str]]  # one dict of slot values per sentence

    def text(self) -> str:
        return " ".join(t.format(**v) for t, v in zip(self.templates, self.values, strict=True))

    def slots(self) -> list[tuple[int, str]]:
        return [(i, name) for i, template in enumerate(self.templates) for name in SLOT.findall(template)]


def fill(rng: random.Random, template: str, slots: Slots) -> dict[str, str]:
    return {name: rng.choice(slots[name]) for name in SLOT.findall(template)}


def review(rng: random.Random, lang: str, sentences: int) -> Review:
    templates, slots = LANGUAGES[lang]
    chosen = rng.sample(templates, sentences)
    return Review(lang, chosen, [fill(rng, t, slots) for t in chosen])


def with_slots_changed(rng: random.Random, original: Review, changes: int) -> Review | None:
    """The same review with `changes` slots given another value; None when it has fewer slots."""
    places = original.slots()
    if len(places) < changes:
        return None
    values = [dict(v) for v in original.values]
    slots = LANGUAGES[original.lang][1]
    for sentence, name in rng.sample(places, changes):
        values[sentence][name] = rng.choice([v for v in slots[name] if v != values[sentence][name]])
    return Review(original.lang, original.templates, values)


def redrawn(rng: random.Random, original: Review) -> Review:
    slots = LANGUAGES[original.lang][1]
    return Review(original.lang, original.templates, [fill(rng, t, slots) for t in original.templates])


def recase(rng: random.Random, text: str, lang: str) -> str:
    return text.lower() if rng.random() < 0.5 else text.upper()


def repunctuate(rng: random.Random, text: str, lang: str) -> str:
    return text.replace(",", "").replace(".", "!" if rng.random() < 0.5 else ".") + " !!"


def typo(rng: random.Random, text: str, lang: str) -> str:
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 4]
    i = rng.choice(long_words or [0])
    word, at = words[i], rng.randrange(1, max(2, len(words[i]) - 1))
    kind = rng.choice(["drop", "double", "swap"])
    if kind == "drop":
        words[i] = word[:at] + word[at + 1 :]
    elif kind == "double":
        words[i] = word[:at] + word[at] + word[at:]
    else:
        words[i] = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    return " ".join(words)


def signed_off(rng: random.Random, text: str, lang: str) -> str:
    return f"{text}\n\n{rng.choice(SIGNATURES)}"


def word_inserted(rng: random.Random, text: str, lang: str) -> str:
    words = text.split(" ")
    words.insert(rng.randrange(1, len(words) + 1), rng.choice(INSERTED[lang]))
    return " ".join(words)


EDITS: dict[str, Callable[[random.Random, str, str], str]] = {
    "case": recase, "punct": repunctuate, "typo": typo, "sig": signed_off, "word": word_inserted,
}  # fmt: skip


def two_edits(rng: random.Random, text: str, lang: str) -> str:
    first, second = rng.sample(sorted(EDITS), 2)
    return EDITS[second](rng, EDITS[first](rng, text, lang), lang)


def marked(first: str, second: str, threshold: float) -> bool:
    """Whether the crawl marks `second` as a near-duplicate of `first`, seen earlier (NearDuplicatePipeline)."""
    earlier, later = signature(first), signature(second)
    if earlier is None or later is None:
        return False
    seen = SeenTexts(threshold)
    seen.add("first", "first", earlier, earlier.bands())
    return seen.find("second", later, later.bands()) is not None


FALSE_COLUMNS = ("1 slot", "2 slots", "redrawn", "other")
RECALL_COLUMNS = (*EDITS, "two")


def pairs_for(rng: random.Random, lang: str, sentences: int, count: int) -> tuple[list, dict, dict]:
    """`count` reviews, and for each column the (first, second) text pairs to judge."""
    originals = [review(rng, lang, sentences) for _ in range(count)]
    different: dict[str, list[tuple[str, str]]] = {name: [] for name in FALSE_COLUMNS}
    copies: dict[str, list[tuple[str, str]]] = {name: [] for name in RECALL_COLUMNS}
    for original in originals:
        text = original.text()
        for name, changes in (("1 slot", 1), ("2 slots", 2)):
            changed = with_slots_changed(rng, original, changes)
            if changed is not None:
                different[name].append((text, changed.text()))
        other_draw = redrawn(rng, original)
        if other_draw.values != original.values:
            different["redrawn"].append((text, other_draw.text()))
        different["other"].append((text, review(rng, lang, sentences).text()))
        for name, edit in (*EDITS.items(), ("two", two_edits)):
            copies[name].append((text, edit(rng, text, lang)))
    return originals, different, copies


def share(pairs: list[tuple[str, str]], threshold: float) -> str:
    if not pairs:
        return "-"
    return f"{100 * sum(marked(a, b, threshold) for a, b in pairs) / len(pairs):.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=300, help="reviews per row (each gives one pair per column)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--thresholds", default=str(DEFAULT_THRESHOLD), help="comma-separated, e.g. 0.8,0.9")
    args = parser.parse_args()
    thresholds = [float(value) for value in args.thresholds.split(",")]
    rng = random.Random(args.seed)
    rows = []
    for lang in LANGUAGES:
        for sentences in (1, 2, 3, 4):
            originals, different, copies = pairs_for(rng, lang, sentences, args.pairs)
            texts = [o.text() for o in originals]
            rows.append((lang, sentences, texts, different, copies))
    print(f"cores: {os.cpu_count()}, shipped threshold {DEFAULT_THRESHOLD}, reviews per row {args.pairs}")
    for threshold in thresholds:
        print(f"\nthreshold {threshold}: share of pairs marked as near-duplicates")
        header = " | ".join(f"{name:>7}" for name in FALSE_COLUMNS)
        recall = " | ".join(f"{name:>6}" for name in RECALL_COLUMNS)
        print(f"lang sent. chars signed | false: {header} || recall: {recall}")
        for lang, sentences, texts, different, copies in rows:
            chars = sum(map(len, texts)) / len(texts)
            signed = sum(signature(t) is not None for t in texts) / len(texts)
            falses = " | ".join(f"{share(different[name], threshold):>7}" for name in FALSE_COLUMNS)
            recalls = " | ".join(f"{share(copies[name], threshold):>6}" for name in RECALL_COLUMNS)
            row = f"{lang:<4} {sentences:>5} {chars:>5.0f} {100 * signed:>5.0f}%"
            print(f"{row} |        {falses} ||         {recalls}")


if __name__ == "__main__":
    main()
