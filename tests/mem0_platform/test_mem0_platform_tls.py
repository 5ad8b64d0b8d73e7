"""The store's https path (Mem0 Platform is https): certificate checks, keep-alive and the deadline over
TLS, against the emulator answering https with a certificate made for this run."""

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_support import CALLER, user_says

from agentic_memory.adapters.mem0_platform import Mem0PlatformError, Mem0PlatformStore, transport
from devtools.mem0_emulator import Mem0Emulator, start_emulator


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mem0-emulator")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "cert.pem", directory / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certificate_path, key_path


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    return self_signed_certificate(tmp_path)[0]


@pytest.fixture
def https_emulator(tmp_path: Path, api_key: str, certificate: Path) -> Iterator[Mem0Emulator]:
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(certificate, tmp_path / "key.pem")
    running = start_emulator(api_keys=[api_key], tls=server_side)
    yield running
    running.stop()


@pytest.fixture
def trusting_the_emulator(monkeypatch: pytest.MonkeyPatch, certificate: Path) -> None:
    """The store's TLS context, trusting this run's certificate instead of the public CAs."""
    context = ssl.create_default_context(cafile=str(certificate))
    context.sslsocket_class = transport._tls_context().sslsocket_class
    monkeypatch.setattr(transport, "_tls_context", lambda: context)


def test_https_works_on_one_kept_alive_connection(
    https_emulator: Mem0Emulator, api_key: str, trusting_the_emulator: None
):
    assert https_emulator.url.startswith("https://127.0.0.1:")
    store = Mem0PlatformStore(api_key, https_emulator.url, read_timeout=2.0, page_size=1)
    store.add(CALLER, user_says("My dog is called Biscuit", "I live in Leeds"), {"type": "semantic"})
    assert [r.text for r in store.search(CALLER, "dog", limit=3)] == ["My dog is called Biscuit"]
    assert [r.text for r in store.list_all(CALLER)] == ["My dog is called Biscuit", "I live in Leeds"]
    assert https_emulator.connections_accepted == 1


def test_the_deadline_holds_over_tls(https_emulator: Mem0Emulator, api_key: str, trusting_the_emulator: None):
    store = Mem0PlatformStore(api_key, https_emulator.url)
    https_emulator.configure(latency=1.0)
    with pytest.raises(Mem0PlatformError) as raised:
        store.list_all(CALLER, timeout=0.2)
    assert raised.value.kind == "timeout"


def test_a_certificate_nobody_vouches_for_is_refused(https_emulator: Mem0Emulator, api_key: str):
    # The real context trusts the public CAs only: a self-signed certificate fails verification
    store = Mem0PlatformStore(api_key, https_emulator.url)
    with pytest.raises(Mem0PlatformError) as raised:
        store.search(CALLER, "dog", limit=3, timeout=2.0)
    assert raised.value.kind == "unreachable"
    assert "SSL" in str(raised.value) or "certificate" in str(raised.value).lower()


def test_a_certificate_for_another_host_is_refused(
    https_emulator: Mem0Emulator, api_key: str, trusting_the_emulator: None
):
    # The certificate is trusted but names 127.0.0.1 only: "localhost" is another host
    store = Mem0PlatformStore(api_key, https_emulator.url.replace("127.0.0.1", "localhost"))
    with pytest.raises(Mem0PlatformError) as raised:
        store.search(CALLER, "dog", limit=3, timeout=2.0)
    assert raised.value.kind == "unreachable"
    assert "hostname" in str(raised.value).lower() or "match" in str(raised.value).lower()
    assert https_emulator.requests() == []


def test_no_tls_context_is_built_for_plain_http(emulator: Mem0Emulator, api_key: str):
    transport._tls_context.cache_clear()
    Mem0PlatformStore(api_key, emulator.url).list_all(CALLER)
    assert transport._tls_context.cache_info().currsize == 0


def test_preparing_an_https_store_builds_its_tls_context_without_connecting(
    https_emulator: Mem0Emulator, api_key: str
):
    transport._tls_context.cache_clear()
    Mem0PlatformStore(api_key, https_emulator.url).prepare()
    assert transport._tls_context.cache_info().currsize == 1
    assert https_emulator.connections_accepted == 0
