"""The outbox on its own: idempotent enqueue, concurrent senders, permanent failures, an expired claim."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update

from kaiku.alerts.outbox import CLAIM_LEASE, deliver_due, enqueue, list_outbox
from kaiku.alerts.smtp import PermanentFailure
from kaiku.db import outbox

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


class RecordingSender:
    """A stand-in SMTP client that is slow, so two delivery runs overlap."""

    def __init__(self, delay: float = 0.0, refuse: set[str] | None = None) -> None:
        self.sent: list[str] = []
        self.delay = delay
        self.refuse = refuse or set()
        self.lock = threading.Lock()

    def send(self, message: str, recipient: str) -> None:
        time.sleep(self.delay)
        if recipient in self.refuse:
            raise PermanentFailure("550 no such user")
        with self.lock:
            self.sent.append(recipient)

    def close(self) -> None:
        pass


def fill(db: Engine, count: int) -> None:
    with db.begin() as conn:
        for n in range(count):
            assert enqueue(conn, f"k{n}", "alert", f"r{n}@x.example", "s", "m", NOW)
        assert not enqueue(conn, "k0", "alert", "r0@x.example", "s", "m", NOW)  # same key: nothing added


def test_concurrent_delivery_runs_send_each_email_once(db: Engine) -> None:
    fill(db, 20)
    sender = RecordingSender(delay=0.01)
    runs = [threading.Thread(target=deliver_due, args=(db, sender, NOW)) for _ in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert sorted(sender.sent) == sorted(f"r{n}@x.example" for n in range(20))
    assert {row["status"] for row in list_outbox(db)} == {"sent"}


def test_permanent_failure_is_kept_as_failed_and_the_rest_go_on(db: Engine) -> None:
    fill(db, 3)
    report = deliver_due(db, RecordingSender(refuse={"r1@x.example"}), NOW)
    assert len(report.sent) == 2 and len(report.failed) == 1
    failed = list_outbox(db, status="failed")
    assert [(r["recipient"], r["last_error"]) for r in failed] == [("r1@x.example", "550 no such user")]
    assert deliver_due(db, RecordingSender(), NOW + timedelta(days=1)).sent == []  # not retried


def test_a_claim_left_by_a_crashed_sender_expires(db: Engine) -> None:
    fill(db, 1)
    with db.begin() as conn:  # as if a sender claimed it and died before marking it sent
        conn.execute(update(outbox).values(status="sending", claim_token="dead", claimed_until=NOW + CLAIM_LEASE))
    sender = RecordingSender()
    assert deliver_due(db, sender, NOW + CLAIM_LEASE - timedelta(seconds=1)).sent == []
    assert len(deliver_due(db, sender, NOW + CLAIM_LEASE + timedelta(seconds=1)).sent) == 1
    assert sender.sent == ["r0@x.example"]
