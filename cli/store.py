"""`kaiku store`: what serves the mentions, an online backup of the embedded store, and copying between stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from cli._common import fail, user_errors
from core.settings import get_settings

app = typer.Typer(help="The mention store: embedded (SQLite) by default, Elasticsearch where configured.",
                  no_args_is_help=True)  # fmt: skip

StoreArgument = Annotated[
    str,
    typer.Option(
        help="An Elasticsearch URL (http://..., https://...) or the path of an embedded store file",
        show_default=False,
    ),
]


@app.command()
def info() -> None:
    """Which store the settings choose, where it is, and how many mentions it holds."""
    from indexer.store import Selection
    from kaiku.wiring import ready_store

    with user_errors():
        store = ready_store(get_settings())
        about = store.describe()
        total = store.count(Selection())
    details = ", ".join(f"{key} {value}" for key, value in about.items() if key != "kind")
    print(f"{about['kind']} ({details}): {total} mentions")


@app.command()
def backup(path: Annotated[Path, typer.Argument(help="File to write the copy to (must not exist)")]) -> None:
    """A consistent copy of the embedded store, taken while crawls and the API keep using it (SQLite online backup)."""
    from indexer.sqlite_store import SQLiteMentionStore
    from kaiku.wiring import mention_store

    with user_errors():
        store = mention_store(get_settings())
        if not isinstance(store, SQLiteMentionStore):
            fail("KAIKU_ELASTICSEARCH_URL is set: back up the cluster with Elasticsearch snapshots instead")
        if path.exists():
            fail(f"{path} exists; choose a new file")
        store.backup(path)
    print(f"backed up {store.path} to {path}")


@app.command()
def copy(
    source: Annotated[str, typer.Option("--from", help="The store to read (URL or file)", show_default=False)],
    target: Annotated[str, typer.Option("--to", help="The store to write (URL or file)", show_default=False)],
    alias: Annotated[str | None, typer.Option(help="Alias of an Elasticsearch side [KAIKU_INDEX_ALIAS]")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Mentions per read page and write batch")] = 1000,
) -> None:
    """Copy every mention from one store to another (e.g. embedded -> Elasticsearch when a team outgrows a machine).

    Writes overwrite by id, so running it again after an interruption copies what is missing and duplicates nothing.
    """
    from pydantic import ValidationError

    from core.mention import Mention
    from indexer.store import Selection

    with user_errors():
        settings = get_settings()
        reader = _open(source, alias or settings.index_alias, settings.elasticsearch_api_key, create=False)
        writer = _open(target, alias or settings.index_alias, settings.elasticsearch_api_key, create=True)
        total = reader.count(Selection())
        failed: list[tuple[str, str]] = []

        def valid_pages(bar: Any) -> Iterator[list[Mention]]:
            for page in reader.pages(Selection(), batch):
                mentions = []
                for document in page:
                    try:
                        mentions.append(Mention.model_validate(document))
                    except ValidationError as exc:
                        failed.append((str(document.get("id", "?")), str(exc).splitlines()[0]))
                yield mentions
                bar.update(len(page))

        with typer.progressbar(length=total, label="copying mentions", file=None) as bar:
            report = writer.write_all(valid_pages(bar))
        copied = report.indexed
        failed.extend(report.failed)
        failed.extend((m.id, "the target refused it for now") for m in report.retryable)
        writer.refresh()
    print(f"copied {copied} of {total} mentions, {len(failed)} failed")
    for mention_id, reason in failed[:20]:
        print(f"  {mention_id}: {reason}")
    if failed:
        raise typer.Exit(1)


def _open(where: str, alias: str, api_key: str | None, create: bool):  # -> MentionStore
    from indexer.es_store import ElasticsearchMentionStore
    from indexer.sqlite_store import SQLiteMentionStore

    if where.startswith(("http://", "https://")):
        es = ElasticsearchMentionStore.connect(where, alias, api_key)
        es.ensure_ready()
        return es
    path = Path(where).expanduser()
    if not create and not path.exists():
        fail(f"no embedded store at {path}")
    return SQLiteMentionStore(path)
