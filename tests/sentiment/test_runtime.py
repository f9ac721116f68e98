"""Threads and number formats: what scoring runs in, and that the choice is visible in the model version."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment import SentimentError
from sentiment.loader import load_classifier
from sentiment.runtime import hardware
from tests.sentiment.contract import check_classifier_contract

pytestmark = pytest.mark.unit


def load(folder: Path, **options):
    return load_classifier(str(folder), cache_dir=folder.parent / "unused-cache", **options)


def test_auto_picks_bfloat16_only_where_the_cpu_computes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    cpu = torch.device("cpu")
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert hardware.resolve_precision("auto", cpu) == "bfloat16"
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "amx_bf16"})
    assert hardware.resolve_precision("auto", cpu) == "bfloat16"
    # AVX-512 without its bf16 extension only emulates bfloat16: slower than float32.
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "avx512f"})
    assert hardware.resolve_precision("auto", cpu) == "float32"
    for explicit in ("float32", "bfloat16"):
        assert hardware.resolve_precision(explicit, cpu) == explicit


def test_cpu_flags_come_from_this_machine() -> None:
    flags = hardware.cpu_flags()
    if Path("/proc/cpuinfo").exists():
        assert flags and all(flag == flag.strip() and flag for flag in flags)
    else:
        assert flags == set()


def test_bad_precisions_are_errors_that_name_the_choices() -> None:
    import torch

    with pytest.raises(SentimentError, match="auto, float32, bfloat16.*'fp8'"):
        hardware.resolve_precision("fp8", torch.device("cpu"))
    with pytest.raises(SentimentError, match="auto, float32, bfloat16.*'int8'"):
        hardware.resolve_precision("int8", torch.device("cpu"))


def test_thread_count_is_set_and_checked() -> None:
    import torch

    before = torch.get_num_threads()
    try:
        assert hardware.configure_threads(1) == 1 and torch.get_num_threads() == 1
        assert hardware.configure_threads(None) == hardware.available_cores()
        with pytest.raises(SentimentError, match="at least 1"):
            hardware.configure_threads(0)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(("precision", "suffix"), [("float32", ""), ("bfloat16", "+bf16")])
def test_every_precision_keeps_the_contract_and_names_itself(
    tiny_checkpoints: dict[str, Path], precision: str, suffix: str
) -> None:
    reference = load(tiny_checkpoints["three"], precision="float32")
    classifier = load(tiny_checkpoints["three"], precision=precision)
    assert classifier.precision == precision
    assert classifier.model_version == reference.model_version + suffix
    scores = check_classifier_contract(classifier)
    expected = check_classifier_contract(reference)
    for got, want in zip(scores, expected, strict=True):
        assert got.label == want.label or abs(got.negative - want.negative) < 0.05


def test_bfloat16_weights_are_bfloat16(tiny_checkpoints: dict[str, Path]) -> None:
    import torch

    classifier = load(tiny_checkpoints["three"], precision="bfloat16")
    assert {parameter.dtype for parameter in classifier.model.parameters()} == {torch.bfloat16}
