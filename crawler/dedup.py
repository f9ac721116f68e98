"""Near-duplicates: MinHash over character shingles, with LSH bands stored in the index.

Exact duplicates need nothing here: the same review reached twice has the same stable id and overwrites
itself. A near-duplicate is a copy with small changes (a review pasted onto two sites, a cross-post with
a different signature line). It is kept, but marked `near_duplicate_of` = the id of the first copy seen,
so reports can count it once.

Method (docs/crawler.md, "Near-duplicates", has the measured figures):

- The text is folded like brand queries (case, accents), reduced to its words joined by single spaces,
  and cut into overlapping 5-character shingles. Character shingles rather than word shingles because
  reviews are short: one changed word in a 20-word review changes 3 of 18 word-3-shingles (Jaccard 0.7)
  but only about a tenth of the character shingles.
- A 128-value MinHash signature (datasketch's `MinHash`, scheme affine32) estimates the Jaccard similarity of
  two shingle sets; two texts whose estimate is at least `DEFAULT_THRESHOLD` (0.8) are near-duplicates.
- Candidates are found by LSH: the signature is cut into bands (datasketch's `MinHashLSH` picks their number
  and width for `CANDIDATE_THRESHOLD`, 0.6: 18 bands of 7 values), each hashed to a short string
  (`"07:5f3a9c21e4b0"`). Two texts are compared only when they share a band; at Jaccard 0.8 the chance of
  sharing none is (1 - 0.8^7)^18, about 1.5%, at 0.9 less than 1e-6 (on bench/dedup_quality.py's pairs the
  recall is within 0.3 points of 32 bands of 4 on the same signatures, with 18 tokens to index, not 32). The bands
  are stored with the mention (a band index in the embedded store, the `dedup_bands` keyword field in
  Elasticsearch), so copies already stored are found with one lookup; their signatures are recomputed from
  their stored text. Mentions stored with the bands of the earlier hand-written MinHash are not found by
  new ones (their bands differ); they are still found within a crawl.
- Texts with fewer than `MIN_CHARS` characters are not signed: "Great stay!" from two guests is two
  opinions, not a copy.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from datasketch import MinHash, MinHashLSH

from core.query_language import words
from core.store import MentionLookup

SHINGLE = 5
PERMUTATIONS = 128
DEFAULT_THRESHOLD = 0.8
CANDIDATE_THRESHOLD = 0.6  # LSH makes pairs of about this similarity candidates; DEFAULT_THRESHOLD decides
MIN_CHARS = 40
MAX_CANDIDATES = 50  # from the index per mention; more shared bands than this means a flood of copies

# datasketch seeds its permutations with numpy's legacy RandomState, whose stream is frozen: bands stored in the
# index stay comparable across runs and versions. The LSH object is used for its band layout only.
_SCHEME = "affine32"
_PERMUTATIONS = MinHash(num_perm=PERMUTATIONS, seed=1, scheme=_SCHEME).permutations
_BAND_RANGES = MinHashLSH(threshold=CANDIDATE_THRESHOLD, num_perm=PERMUTATIONS).hashranges
BANDS = len(_BAND_RANGES)


def normalise(text: str) -> str:
    return " ".join(words(text))


def shingles(text: str) -> set[str]:
    return _shingles_of(normalise(text))


def _shingles_of(norm: str) -> set[str]:
    if len(norm) <= SHINGLE:
        return {norm} if norm else set()
    return {norm[i : i + SHINGLE] for i in range(len(norm) - SHINGLE + 1)}


@dataclass(frozen=True)
class Signature:
    minhash: MinHash

    def similarity(self, other: Signature) -> float:
        """Estimated Jaccard similarity of the two shingle sets."""
        return float(self.minhash.jaccard(other.minhash))

    def bands(self) -> list[str]:
        values = self.minhash.hashvalues.astype("<u4")  # little-endian bytes on every machine
        return [
            f"{band:02d}:{hashlib.blake2b(values[start:end].tobytes(), digest_size=6).hexdigest()}"
            for band, (start, end) in enumerate(_BAND_RANGES)
        ]


def signature(text: str) -> Signature | None:
    """MinHash signature of a text; None when it is too short to call a copy a copy."""
    norm = normalise(text)
    if len(norm) < MIN_CHARS:
        return None
    # crc32 rather than datasketch's default sha1: stable across processes and several times faster.
    minhash = MinHash(num_perm=PERMUTATIONS, hashfunc=zlib.crc32, permutations=_PERMUTATIONS, scheme=_SCHEME)
    minhash.update_batch([shingle.encode() for shingle in _shingles_of(norm)])
    return Signature(minhash)


@dataclass
class Seen:
    id: str
    root: str  # the first copy: its own id, or the id it is a near-duplicate of
    signature: Signature


class SeenTexts:
    """Signatures of the mentions of this crawl, findable by band."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._by_band: dict[str, list[Seen]] = {}

    def find(self, mention_id: str, sig: Signature, bands: Sequence[str]) -> str | None:
        """The root id of an earlier near-duplicate of this text, None when there is none (or it is this one)."""
        for band in bands:
            for seen in self._by_band.get(band, []):
                if mention_id in (seen.id, seen.root):
                    continue
                if sig.similarity(seen.signature) >= self.threshold:
                    return seen.root
        return None

    def add(self, mention_id: str, root: str, sig: Signature, bands: Iterable[str]) -> None:
        seen = Seen(mention_id, root, sig)
        for band in bands:
            self._by_band.setdefault(band, []).append(seen)


class IndexedTexts:
    """Near-duplicates among the mentions already in the store (its MinHash band lookup)."""

    def __init__(self, store: MentionLookup) -> None:
        self.store = store

    def find(
        self, mention_id: str, sig: Signature, bands: Sequence[str], threshold: float = DEFAULT_THRESHOLD
    ) -> str | None:
        """The root id of the earliest near-duplicate in the store (by published_at, else crawled_at), or None."""
        return self.find_many({mention_id: (sig, bands)}, threshold)[mention_id]

    def find_many(
        self, texts: Mapping[str, tuple[Signature, Sequence[str]]], threshold: float = DEFAULT_THRESHOLD
    ) -> dict[str, str | None]:
        """`find` for many mentions (id -> (signature, bands)) with one store request."""
        candidates = self.store.near_duplicate_candidates(
            {mention_id: bands for mention_id, (_, bands) in texts.items()}, MAX_CANDIDATES
        )
        signatures: dict[str, Signature | None] = {}  # the copies of one text share their candidates
        roots: dict[str, str | None] = {}
        for mention_id, (sig, _) in texts.items():
            # Earliest first, and only as far as the first match (and those filed at the same moment, the smallest
            # root of which wins): a text stored thousands of times brings `MAX_CANDIDATES` candidates, and signing
            # each of them cost more than the lookup itself.
            earliest: tuple[str, str] | None = None
            for candidate in sorted(candidates[mention_id], key=lambda candidate: candidate.filed_at):
                if earliest is not None and candidate.filed_at != earliest[0]:
                    break
                root = candidate.near_duplicate_of or candidate.id
                if root == mention_id:
                    continue
                if candidate.text not in signatures:
                    signatures[candidate.text] = signature(candidate.text)
                other = signatures[candidate.text]
                if other is not None and sig.similarity(other) >= threshold:
                    earliest = min(earliest or (candidate.filed_at, root), (candidate.filed_at, root))
            roots[mention_id] = earliest[1] if earliest else None
        return roots


class PageTexts:
    """The mentions one response yielded (crawler.pipelines.PageTextsMiddleware gives each the same PageTexts).

    Each text is signed once, and the first mention of the page that needs the store asks it about itself and
    every mention after it on the page in one request, so a page costs one lookup rather than one per mention.
    """

    def __init__(self, items: Sequence[Any]) -> None:  # crawler.items.MentionItem, in the order yielded
        self.items = list(items)
        self._signed: dict[int, tuple[Signature, list[str]] | None] = {}  # by id() of the item: the page keeps it
        self._roots: dict[str, str | None] = {}

    def signed(self, item: Any) -> tuple[Signature, list[str]] | None:
        """The signature and bands of an item's text, None when it is too short to sign."""
        key = id(item)
        if key not in self._signed:
            sig = signature(item.text)
            self._signed[key] = (sig, sig.bands()) if sig is not None else None
        return self._signed[key]

    def indexed_root(self, item: Any, indexed: IndexedTexts, threshold: float, seen: SeenTexts) -> str | None:
        """`indexed.find` for this item, looked up together with the rest of its page.

        The rest of the page is asked about only where `seen` (this crawl so far) has no copy of it yet: a copy
        found within the crawl is not looked up in the store (and what `seen` finds now it finds later too).
        """
        mine = self.signed(item)
        if mine is None:
            return None
        if item.id not in self._roots:
            position = next(n for n, other in enumerate(self.items) if other is item)
            texts = {item.id: mine}
            for other in self.items[position + 1 :]:  # those before it have been through the pipeline already
                signed = self.signed(other)
                if signed is not None and other.id not in self._roots and seen.find(other.id, *signed) is None:
                    texts[other.id] = signed
            self._roots.update(indexed.find_many(texts, threshold))
        return self._roots[item.id]
