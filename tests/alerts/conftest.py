"""A real SMTP server (aiosmtpd) in this process, a fresh Kaiku database, and anger mentions to index."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from elasticsearch import Elasticsearch
from sqlalchemy import Engine

from core.mention import Mention, mention_id
from indexer.admin import ensure_index
from indexer.writer import BulkWriter
from kaiku.alerts.smtp import SmtpConfig
from kaiku.db import open_database
from kaiku.local_engine import free_port


@dataclass
class Inbox:
    """The aiosmtpd handler: keeps every delivered message."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        content = envelope.content  # type: ignore[attr-defined]
        message = message_from_bytes(content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[attr-defined]
        return "250 Message accepted"


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self.port, sender="kaiku@test.example", timeout=5)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(port=free_port(), inbox=Inbox())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'kaiku.db'}")
    yield engine
    engine.dispose()


def index_mentions(
    es: Elasticsearch,
    alias: str,
    brand: str,
    times: list[datetime],
    experience: str = "anger",
    texts: list[str] | None = None,
) -> list[Mention]:
    ensure_index(es, alias, now=times[0] if times else None)
    mentions = []
    for n, when in enumerate(times):
        url = f"https://reviews.example/{brand}/{experience}/{when.isoformat()}/{n}"
        mentions.append(
            Mention(
                id=mention_id("reviews", url),
                brand=brand,
                source="reviews",
                url=url,
                text=(texts[n] if texts and n < len(texts) else f"Review {n} of {brand}: the room was cold"),
                lang="en",
                experience=experience,
                experience_reason="test",
                published_at=when,
                crawled_at=when,
            )
        )
    for month in {m.published_at.strftime("%Y-%m") for m in mentions if m.published_at}:  # type: ignore[union-attr]
        ensure_index(es, alias, now=datetime.strptime(month + "-15", "%Y-%m-%d").replace(tzinfo=times[0].tzinfo))
    report = BulkWriter(es, alias, refresh=True).write(mentions)
    assert report.indexed == len(mentions), report.failed
    return mentions


def every(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    out = []
    t = start
    while t < end:
        out.append(t)
        t += step
    return out
