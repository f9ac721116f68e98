"""Tiny random checkpoints for tests: a word-level tokenizer and a hidden-32 BERT, built on the spot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# The tiny tokenizer knows the words of the texts the tests score; anything else is [UNK].
TINY_SENTENCES = (
    "kamala kokemus en suosittele kenellekään",
    "best hotel ever the staff were wonderful ok x",
    "hotellin aamiainen oli erinomainen ja henkilökunta ystävällistä palaamme varmasti uudelleen ensi kesänä",
)
TINY_WORDS = sorted({word for sentence in TINY_SENTENCES for word in sentence.split()})
TINY_POSITIONS = 64


def build_tiny_tokenizer():
    """A word-level fast tokenizer (BERT-style specials) made with the `tokenizers` library alone."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    vocab = {token: index for index, token in enumerate(specials + TINY_WORDS)}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        model_max_length=TINY_POSITIONS,
    )


def build_tiny_checkpoint(folder: Path, labels: Sequence[str] | None, seed: int = 0) -> Path:
    """A random BERT (hidden 32) saved with save_pretrained; labels=None saves a bare encoder without a head."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel, PreTrainedModel

    tokenizer = build_tiny_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=TINY_POSITIONS,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model: PreTrainedModel
    if labels is None:
        model = BertModel(config)
    else:
        config.num_labels = len(labels)
        config.id2label = dict(enumerate(labels))
        config.label2id = {label: index for index, label in enumerate(labels)}
        model = BertForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
