"""SMTP with STARTTLS or implicit TLS and a login, against real aiosmtpd servers with a certificate made here."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kaiku.alerts.smtp import SmtpConfig, SmtpSender, TemporaryFailure
from kaiku.local_engine import free_port
from tests.alerts.conftest import Inbox

pytestmark = pytest.mark.integration

MESSAGE = "From: kaiku@test.example\r\nTo: to@test.example\r\nSubject: hello\r\n\r\nbody\r\n"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert file doubles as the CA file the client trusts)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"kaiku", b"s3cret")
    return AuthResult(success=ok)


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Inbox]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Inbox]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        ssl_context=_server_context(certificate),
        server_hostname="127.0.0.1",
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # aiosmtpd only counts STARTTLS as TLS; this whole connection is TLS
    )
    controller.start()
    yield port, inbox
    controller.stop()


def config(port: int, security: str, ca: Path, password: str = "s3cret", timeout: float = 5) -> SmtpConfig:
    return SmtpConfig("127.0.0.1", port, security, "kaiku", password, "kaiku@test.example", timeout, str(ca))


def test_starttls_with_login(starttls_server: tuple[int, Inbox], certificate: tuple[Path, Path]) -> None:
    port, inbox = starttls_server
    sender = SmtpSender(config(port, "starttls", certificate[0]))
    sender.send(MESSAGE, "to@test.example")
    sender.close()
    [(recipients, message)] = inbox.received
    assert recipients == ["to@test.example"] and message["Subject"] == "hello"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_login(tls_server: tuple[int, Inbox], certificate: tuple[Path, Path]) -> None:
    port, inbox = tls_server
    sender = SmtpSender(config(port, "tls", certificate[0]))
    sender.send(MESSAGE, "to@test.example")
    sender.close()
    assert len(inbox.received) == 1


def test_wrong_password_or_untrusted_certificate_is_temporary(
    starttls_server: tuple[int, Inbox], certificate: tuple[Path, Path]
) -> None:
    port, inbox = starttls_server
    # (smtplib falls back from PLAIN to LOGIN after the 535, which this server lets time out: either way the
    # email is kept for a retry once the operator fixes the password.)
    with pytest.raises(TemporaryFailure):
        SmtpSender(config(port, "starttls", certificate[0], "wrong", timeout=1)).send(MESSAGE, "to@test.example")
    untrusted = replace(config(port, "starttls", certificate[0]), ca_file=None)  # the system CAs: self-signed fails
    with pytest.raises(TemporaryFailure, match="CERTIFICATE_VERIFY_FAILED"):
        SmtpSender(untrusted).send(MESSAGE, "to@test.example")
    with pytest.raises(TemporaryFailure, match="AUTH"):  # no login over plain text: the server requires STARTTLS
        SmtpSender(config(port, "none", certificate[0])).send(MESSAGE, "to@test.example")
    assert inbox.received == []
