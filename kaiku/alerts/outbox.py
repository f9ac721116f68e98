"""The email outbox: every email is a row before any attempt to send it.

Guarantees (docs/alerts.md, "Outbox"):

* nothing is lost: an email is committed in the same transaction as the incident or reminder that caused it, and
  stays `pending` -- retried with exponential backoff -- until the SMTP server accepts it;
* nothing is sent twice: the idempotency key (incident + recipient, case + owner) is unique, so enqueueing again is
  a no-op; a sender first claims a row with a compare-and-set update (`pending` -> `sending` with its own token)
  and marks it `sent` only while it still holds that claim. The one window left is a crash after the server
  accepted the message and before the commit: the claim then expires and the email is sent again, with the same
  Message-ID so mail systems can drop the copy.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from kaiku.alerts.smtp import PermanentFailure, TemporaryFailure
from kaiku.db import outbox

CLAIM_LEASE = timedelta(minutes=10)


def enqueue(conn: Connection, key: str, kind: str, recipient: str, subject: str, message: str, now: datetime) -> bool:
    """Add an email inside the caller's transaction; False (and no change) when the key is already there."""
    if conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key == key)).first() is not None:
        return False
    try:
        with conn.begin_nested():
            conn.execute(
                insert(outbox).values(
                    idempotency_key=key,
                    kind=kind,
                    recipient=recipient,
                    subject=subject,
                    message=message,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False  # a concurrent writer enqueued the same key first
    return True


def backoff(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """Wait before attempt number `attempts + 1`: base, 2 x base, 4 x base, ... never more than cap."""
    return min(base * (2 ** max(attempts - 1, 0)), cap)


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"sent {len(self.sent)}, deferred {len(self.deferred)}, failed {len(self.failed)}"
        return text + (f" ({self.errors[-1]})" if self.errors else "")


class Sender(Protocol):
    """What delivery needs from an SMTP client (kaiku.alerts.smtp.SmtpSender)."""

    def send(self, message: str, recipient: str) -> None: ...

    def close(self) -> None: ...


def _due(now: datetime) -> Any:
    return or_(
        and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= now),
        and_(outbox.c.status == "sending", outbox.c.claimed_until < now),  # its sender died mid-send
    )


def deliver_due(
    db: Engine,
    sender: Sender,
    now: datetime,
    base: timedelta = timedelta(seconds=30),
    cap: timedelta = timedelta(hours=1),
    clock: Callable[[], datetime] | None = None,
) -> DeliveryReport:
    """Send every due email once, oldest first. Stops at the first temporary failure: the server is most likely
    down, and the rest wait for the next run (the failed row backs off, so the next run tries it later)."""
    report = DeliveryReport()
    with db.connect() as conn:
        due = conn.execute(select(outbox.c.id).where(_due(now)).order_by(outbox.c.id)).scalars().all()
    try:
        for row_id in due:
            token = uuid.uuid4().hex
            with db.begin() as conn:
                claimed = conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row_id, _due(now))
                    .values(
                        status="sending",
                        claim_token=token,
                        claimed_until=now + CLAIM_LEASE,
                        attempts=outbox.c.attempts + 1,
                    )
                )
                if claimed.rowcount != 1:
                    continue  # another sender took it, or it is no longer due
                row = conn.execute(select(outbox).where(outbox.c.id == row_id)).one()
            try:
                sender.send(row.message, row.recipient)
            except TemporaryFailure as exc:
                _release(db, row_id, token, "pending", str(exc), now + backoff(row.attempts, base, cap))
                report.deferred.append(row_id)
                report.errors.append(str(exc))
                break
            except PermanentFailure as exc:
                _release(db, row_id, token, "failed", str(exc), now)
                report.failed.append(row_id)
                report.errors.append(str(exc))
                continue
            sent_at = clock() if clock else now
            with db.begin() as conn:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row_id, outbox.c.claim_token == token)
                    .values(status="sent", sent_at=sent_at, claim_token=None, claimed_until=None, last_error=None)
                )
            report.sent.append(row_id)
    finally:
        sender.close()
    return report


def _release(db: Engine, row_id: int, token: str, status: str, error: str, next_attempt: datetime) -> None:
    with db.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id, outbox.c.claim_token == token)
            .values(status=status, claim_token=None, claimed_until=None, last_error=error, next_attempt_at=next_attempt)
        )


def list_outbox(db: Engine, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first, without the message body."""
    columns = [c for c in outbox.c if c.name not in ("message", "claim_token")]
    query = select(*columns).order_by(outbox.c.id.desc()).limit(limit)
    if status:
        query = query.where(outbox.c.status == status)
    with db.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
