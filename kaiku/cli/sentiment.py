"""`kaiku sentiment score`: polarity, experience class and its reason for texts read from stdin."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Annotated

import typer

from kaiku.cli._common import fail, user_errors

app = typer.Typer(help="Score texts with the sentiment model.", no_args_is_help=True)

# Lines scored per call: large enough for length-sorted batches to pay off, small enough to stream output.
LINES_PER_CALL = 512


def _nonblank_lines(stream: Iterable[str]) -> Iterator[str]:
    for line in stream:
        text = line.rstrip("\r\n")
        if text.strip():
            yield text


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
def score(
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="'default', a transformers hub id or a local folder [default: KAIKU_SENTIMENT_MODEL]"
        ),
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels",
            help="label mapping for a transformers model, e.g. 'LABEL_0=negative,LABEL_1=neutral,LABEL_2=positive' "
            "[default: KAIKU_SENTIMENT_LABELS when --model is not given]",
        ),
    ] = None,
) -> None:
    """Read UTF-8 texts, one per line, from stdin; write one JSON object per text to stdout."""
    from kaiku.settings import get_settings
    from sentiment.loader import load_classifier
    from sentiment.scoring import score_batch

    with user_errors():
        settings = get_settings()
        if labels is None and model is None:
            # The configured mapping belongs to the configured model, not to one named on the command line.
            labels = settings.sentiment_labels
        classifier = load_classifier(
            model or settings.sentiment_model,
            cache_dir=settings.resolved_model_cache_dir,
            device=settings.device,
            labels=labels,
            batch_size=settings.batch_size,
        )
        stdin = typer.get_text_stream("stdin", encoding="utf-8", errors="strict")
        try:
            for texts in _chunks(_nonblank_lines(stdin), LINES_PER_CALL):
                for text, scored in zip(texts, score_batch(classifier, texts), strict=True):
                    record = {
                        "text": text,
                        "label": scored.label,
                        "polarity": {name: round(value, 4) for name, value in scored.polarity.as_dict().items()},
                        "experience": scored.experience,
                        "reason": scored.reason,
                    }
                    typer.echo(json.dumps(record, ensure_ascii=False))
        except UnicodeDecodeError as exc:
            fail(f"stdin is not valid UTF-8: {exc}")
