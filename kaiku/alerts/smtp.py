"""Sending one message through the configured SMTP server (plain, STARTTLS or implicit TLS; optional login)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

from core.settings import Settings
from kaiku.errors import ServiceError


class TemporaryFailure(ServiceError):
    """Worth retrying later: the server is down, busy (4xx) or dropped the connection."""


class PermanentFailure(ServiceError):
    """Retrying will not help: the server refused the message or the recipient (5xx)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "none"  # none | starttls | tls
    username: str | None = None
    password: str | None = None
    sender: str = "kaiku@localhost"
    timeout: float = 10.0
    ca_file: str | None = None  # a private CA for the server's certificate; None: the system's trust store

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            sender=settings.smtp_from,
            timeout=settings.smtp_timeout,
            ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
        )


class SmtpSender:
    """One connection, opened on the first message and reused for the rest of a delivery run."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            context = ssl.create_default_context(cafile=c.ca_file)
            smtp: smtplib.SMTP
            if c.security == "tls":
                smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=context)
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    smtp.starttls(context=context)
            if c.username:
                smtp.login(c.username, c.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            # A wrong password is fixed by the operator; keep the emails until then.
            raise TemporaryFailure(f"SMTP login to {c.host}:{c.port} failed: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot connect to SMTP server {c.host}:{c.port}: {exc}") from exc
        return smtp

    def send(self, message: str, recipient: str) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.sendmail(self.config.sender, [recipient], message.encode("ascii"))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            self._raise_for(min(codes) if codes else 500, str(exc), exc)
        except smtplib.SMTPResponseException as exc:
            self._raise_for(exc.smtp_code, f"{exc.smtp_code} {exc.smtp_error!r}", exc)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(f"SMTP send failed: {exc}") from exc

    def _raise_for(self, code: int, detail: str, exc: Exception) -> None:
        if 500 <= code < 600:
            raise PermanentFailure(f"SMTP server refused the message: {detail}") from exc
        self.close()
        raise TemporaryFailure(f"SMTP server deferred the message: {detail}") from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None
