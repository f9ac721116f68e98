"""`kaiku sentiment score` (texts from stdin) and `kaiku sentiment eval` (labelled files)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli._common import fail, user_errors

if TYPE_CHECKING:
    from core.polarity import SentimentClassifier

app = typer.Typer(help="Score texts with the sentiment model.", no_args_is_help=True)

# Malformed input lines listed one by one on stderr before the rest are only counted.
ERRORS_SHOWN = 10

ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="'default', a transformers hub id or a local folder [default: KAIKU_SENTIMENT_MODEL]"),
]
QueryOption = Annotated[str | None, typer.Option("--query", "-q", help="only mentions matching this full-text query")]
BrandOption = Annotated[str | None, typer.Option("--brand", help="only this brand's mentions")]
LabelsOption = Annotated[
    str | None,
    typer.Option(
        "--labels",
        help="label mapping for a transformers model, e.g. 'LABEL_0=negative,LABEL_1=neutral,LABEL_2=positive' "
        "[default: KAIKU_SENTIMENT_LABELS when --model is not given]",
    ),
]


def _load(model: str | None, labels: str | None) -> SentimentClassifier:
    from core.settings import get_settings
    from sentiment.loader import load_classifier

    settings = get_settings()
    if labels is None and model is None:
        # The configured mapping belongs to the configured model, not to one named on the command line.
        labels = settings.sentiment_labels
    return load_classifier(
        model or settings.sentiment_model,
        cache_dir=settings.resolved_model_cache_dir,
        device=settings.device,
        labels=labels,
        batch_size=settings.batch_size,
        threads=settings.torch_threads,
        precision=settings.precision,
    )


# Lines scored per call: large enough for length-sorted batches to pay off, small enough to stream output.
LINES_PER_CALL = 512


def _lines(stream: Iterable[str]) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\r\n")


def _blank_record(text: str) -> dict[str, object]:
    # Output line N answers input line N, so a blank line gets a record too, with nothing scored.
    return {"text": text, "label": None, "polarity": None, "experience": None, "reason": "blank line: nothing to score"}


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@app.command()
def score(model: ModelOption = None, labels: LabelsOption = None) -> None:
    """Read UTF-8 texts, one per line, from stdin; write one JSON object per line to stdout, in the same order.

    A blank input line gets a record with null label, polarity and experience, so output line N answers input line N.
    """
    from core.scoring import score_batch
    from core.settings import get_settings
    from kaiku.wiring import experience_thresholds

    with user_errors():
        # The thresholds belong to the model that scores: a head stores its own calibrated ones.
        thresholds = experience_thresholds(get_settings(), model)
        classifier = _load(model, labels)
        stdin = typer.get_text_stream("stdin", encoding="utf-8", errors="strict")
        try:
            for lines in _chunks(_lines(stdin), LINES_PER_CALL):
                texts = [line for line in lines if line.strip()]
                scores = iter(score_batch(classifier, texts, thresholds=thresholds) if texts else [])
                for line in lines:
                    if not line.strip():
                        typer.echo(json.dumps(_blank_record(line), ensure_ascii=False))
                        continue
                    scored = next(scores)
                    record = {
                        "text": line,
                        "label": scored.label,
                        "polarity": {name: round(value, 4) for name, value in scored.polarity.as_dict().items()},
                        "experience": scored.experience,
                        "reason": scored.reason,
                    }
                    typer.echo(json.dumps(record, ensure_ascii=False))
        except UnicodeDecodeError as exc:
            fail(f"stdin is not valid UTF-8: {exc}")


@app.command("eval")
def evaluate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="files of 'label<TAB>text' lines: negative/neutral/positive or anger/comfort/delight"),
    ],
    lang: Annotated[
        str | None, typer.Option("--lang", help="language of every text; default: detected per text (lingua)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    model: ModelOption = None,
    labels: LabelsOption = None,
) -> None:
    """Per-language accuracy, macro-F1, per-class F1 and confusion matrix of the model on labelled files.

    Polarity labels are scored against the model's polarity, experience labels against the
    experience rule for an unrated mention (KAIKU_EXPERIENCE_TEXT_* or the model's defaults).
    """
    from core.settings import get_settings
    from kaiku.wiring import experience_thresholds
    from sentiment.evaluation import evaluate as run_evaluation
    from sentiment.evaluation import format_table, read_labelled_files

    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        fail(f"not a file: {', '.join(missing)}")
    read = read_labelled_files(paths)
    for error in read.errors[:ERRORS_SHOWN]:
        print(f"skipped {error}", file=sys.stderr)
    if len(read.errors) > ERRORS_SHOWN:
        print(f"... and {len(read.errors) - ERRORS_SHOWN} more malformed lines", file=sys.stderr)
    if not read.examples:
        fail(f"no labelled lines in {', '.join(map(str, paths))} ({len(read.errors)} malformed)")
    with user_errors():
        settings = get_settings()
        thresholds = experience_thresholds(settings, model)
        classifier = _load(model, labels)
        report = run_evaluation(
            classifier, read.examples, lang=lang.strip().lower() if lang else None, thresholds=thresholds
        )
    if as_json:
        output = {
            "model": {"id": classifier.model_id, "version": classifier.model_version},
            "experience_thresholds": {"text_anger": thresholds.text_anger, "text_delight": thresholds.text_delight},
            "files": [str(path) for path in paths],
            "lines": len(read.examples),
            "skipped": len(read.errors),
            **{task: {name: slice_.as_dict() for name, slice_ in metrics.items()} for task, metrics in report.items()},
        }
        typer.echo(json.dumps(output, ensure_ascii=False, indent=2))
    else:
        typer.echo(
            f"model {classifier.model_id} {classifier.model_version}; {len(read.examples)} lines, "
            f"{len(read.errors)} malformed skipped; experience text thresholds anger {thresholds.text_anger:.2f}, "
            f"delight {thresholds.text_delight:.2f}"
        )
        typer.echo(format_table(report))


@app.command()
def rescore(
    query: QueryOption = None,
    brand: BrandOption = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="mentions per search page and scoring batch")] = 256,
    model: ModelOption = None,
    labels: LabelsOption = None,
) -> None:
    """Re-score stored mentions not yet scored by the current model (all, or those matching --query / --brand).

    Safe to interrupt and run again: mentions already carrying the model's id and version are skipped.
    """
    from indexer.queries import MentionFilters
    from kaiku.rescore import RescoreReport
    from kaiku.rescore import rescore as run_rescore
    from kaiku.wiring import experience_thresholds

    def progress(report: RescoreReport) -> None:
        print(f"  {report.rescored} of {report.matched} re-scored", file=sys.stderr)

    with user_errors():
        settings, store, norms = _stored_mentions()
        classifier = _load(model, labels)
        report = run_rescore(
            store,
            classifier,
            MentionFilters(brand=brand, q=query),
            batch_size=batch,
            thresholds=experience_thresholds(settings, model),
            progress=progress,
            norms=norms,
        )
    typer.echo(
        f"model {classifier.model_id} {classifier.model_version}: {report.rescored} re-scored, "
        f"{report.already_current} already current, {len(report.invalid)} unreadable, {len(report.failed)} failed"
    )
    _report_problems(report.invalid, report.failed)


@app.command()
def reclassify(
    query: QueryOption = None,
    brand: BrandOption = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="mentions per search page")] = 256,
) -> None:
    """Apply the current KAIKU_EXPERIENCE_* thresholds and brand norms to stored mentions (no model runs).

    Only mentions whose class or reason changes are written; running it again changes nothing more.
    """
    from indexer.queries import MentionFilters
    from kaiku.rescore import ReclassifyReport
    from kaiku.rescore import reclassify as run_reclassify
    from kaiku.wiring import experience_thresholds

    def progress(report: ReclassifyReport) -> None:
        print(f"  {report.changed + report.unchanged} of {report.matched} judged", file=sys.stderr)

    with user_errors():
        settings, store, norms = _stored_mentions()
        report = run_reclassify(
            store,
            MentionFilters(brand=brand, q=query),
            batch_size=batch,
            thresholds=experience_thresholds(settings),
            progress=progress,
            norms=norms,
        )
    typer.echo(
        f"{report.changed} reclassified, {report.unchanged} unchanged, {len(report.invalid)} unreadable, "
        f"{len(report.failed)} failed"
    )
    _report_problems(report.invalid, report.failed)


def _stored_mentions():  # -> (Settings, MentionStore, NormsByWeek)
    """The settings, the configured mention store (checked), and the brands' norms read from it."""
    from core.config import load_config
    from core.settings import get_settings
    from kaiku.rescore import NormsByWeek
    from kaiku.wiring import ready_store

    settings = get_settings()
    store = ready_store(settings, refresh=True)
    brands = load_config(settings.config_dir).brands
    norms = NormsByWeek(store, brands, settings.baseline_min_history, settings.baseline_days)
    return settings, store, norms


def _report_problems(invalid: list[tuple[str, str]], failed: list[tuple[str, str]]) -> None:
    for mention_id, reason in (invalid + failed)[:ERRORS_SHOWN]:
        print(f"  {mention_id}: {reason}", file=sys.stderr)
    if failed or invalid:
        raise typer.Exit(1)
