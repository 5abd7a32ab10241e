"""The local Kafka cluster's own certificate authority and broker certificate (openssl).

Every listener of the local cluster is TLS: clients check the broker's certificate against this
CA with host-name verification on, and the brokers authenticate each other (controller and
inter-broker listeners) with the same certificate in mutual TLS. The files are made once under
``<home>/tls/`` and reused; a missing piece is made again (a new CA re-issues the broker
certificate too). Keys are PKCS#8 PEM readable by their owner only; Kafka reads them directly
(``ssl.keystore.type=PEM``), so there is no keystore password to keep anywhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# The brokers' identity: its DN is mapped to this principal by ssl.principal.mapping.rules.
BROKER_PRINCIPAL = "vigie-broker"
BROKER_SUBJECT = f"/O=Vigie/CN={BROKER_PRINCIPAL}"
# As Java prints it (RFC 2253, most specific first): what the mapping rule matches.
BROKER_DN = f"CN={BROKER_PRINCIPAL},O=Vigie"
CA_DAYS = 3650
BROKER_DAYS = 825


class TlsError(RuntimeError):
    """The certificates could not be made."""


@dataclass(frozen=True)
class TlsFiles:
    """Where the cluster's TLS material lives."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def broker_key(self) -> Path:
        return self.folder / "broker.key"

    @property
    def broker_cert(self) -> Path:
        return self.folder / "broker.crt"

    @property
    def broker_keystore(self) -> Path:
        """Key, certificate and CA in one PEM file: Kafka's ``ssl.keystore.location``."""
        return self.folder / "broker.pem"


def _openssl(*args: str, cwd: Path) -> None:
    # umask 077: keys are created readable by their owner only, never briefly wider.
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False, umask=0o077
    )
    if result.returncode != 0:
        raise TlsError(f"openssl {args[0]} failed: {result.stderr[-1500:]}")


def _make_ca(files: TlsFiles) -> None:
    log.info("creating the local Kafka CA in %s", files.folder)
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        files.ca_key.name,
        "-out",
        files.ca_cert.name,
        "-days",
        str(CA_DAYS),
        "-subj",
        "/O=Vigie/CN=Vigie local Kafka CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=files.folder,
    )


def _make_broker(files: TlsFiles) -> None:
    log.info("issuing the local Kafka broker certificate")
    folder = files.folder
    _openssl(
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        files.broker_key.name,
        cwd=folder,
    )
    csr = folder / "broker.csr"
    ext = folder / "broker.ext"
    # serverAuth for the listeners, clientAuth for mutual TLS between brokers and controllers.
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth,clientAuth\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
    )
    try:
        _openssl(
            "req",
            "-new",
            "-key",
            files.broker_key.name,
            "-subj",
            BROKER_SUBJECT,
            "-out",
            csr.name,
            cwd=folder,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            csr.name,
            "-CA",
            files.ca_cert.name,
            "-CAkey",
            files.ca_key.name,
            "-set_serial",
            str(secrets.randbits(63)),
            "-days",
            str(BROKER_DAYS),
            "-extfile",
            ext.name,
            "-out",
            files.broker_cert.name,
            cwd=folder,
        )
    finally:
        csr.unlink(missing_ok=True)
        ext.unlink(missing_ok=True)
    keystore = files.broker_keystore
    keystore.unlink(missing_ok=True)
    keystore.touch(mode=0o600)
    keystore.write_text(
        files.broker_key.read_text() + files.broker_cert.read_text() + files.ca_cert.read_text()
    )


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder``: two starts at once (test runs, a developer's terminal)
    must not each make a CA or a password and overwrite the other's."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_tls(home: Path) -> TlsFiles:
    """The CA and broker certificate of the cluster home; made once, remade if missing."""
    if shutil.which("openssl") is None:
        raise TlsError("openssl is needed to make the local Kafka certificates")
    files = TlsFiles(home.resolve() / "tls")
    with locked(files.folder):
        return _ensure(files)


def _ensure(files: TlsFiles) -> TlsFiles:
    if not (files.ca_cert.exists() and files.ca_key.exists()):
        _make_ca(files)
        files.broker_cert.unlink(missing_ok=True)
    if not all(p.exists() for p in (files.broker_key, files.broker_cert, files.broker_keystore)):
        _make_broker(files)
    for key in (files.ca_key, files.broker_key, files.broker_keystore):
        key.chmod(0o600)
    # Certificates are public: any local client (another user's device simulator) reads the CA.
    for cert in (files.ca_cert, files.broker_cert):
        cert.chmod(0o644)
    return files
