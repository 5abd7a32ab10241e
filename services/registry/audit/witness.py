"""Audit checkpoints: the chain's head, signed, published on Kafka outside the registry's database.

Every ``audit_checkpoint_s`` the registry queues the newest record's sequence number and hash,
signed with its Ed25519 audit key, in its outbox when they moved; the relay publishes them to
``vigie.audit.checkpoints.v1`` (acks=all, kept forever, written by the registry's principal
only). ``vigie audit verify`` reads them back and checks that each witnessed record is still in
the chain with the same hash. Only the records newer than the last checkpoint can be removed
unnoticed.

The signature is what makes the topic a witness rather than a notice board: whoever can write
the topic (an operator is a super user) cannot forge a head without the private key, so a
checkpoint that is unsigned, signed by a key the verifier does not pin, or wrongly signed is
reported and ignored. It can neither vouch for a rewritten chain nor accuse an intact one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session, col, select

from services.registry.audit.service import head
from services.registry.outbox import OutboxEvent, enqueue
from services.registry.settings import RegistrySettings
from vigie.contracts import AuditCheckpoint
from vigie.kafka import read_topic

_CHECKPOINT_NAMESPACE = uuid.UUID("5f0c8f8e-52a4-4d6e-9a53-0c7e2d1f4b77")
EVENT_TYPE = "audit_checkpoint"
# Where development and tests keep the key they make for themselves (relative to the working
# directory, like the local database and Kafka's files).
DEVELOPMENT_KEY_FILE = Path(".vigie/audit/signing.key")


class SigningKeyError(Exception):
    """The audit signing key is missing (production) or cannot be read."""


@dataclass(frozen=True)
class Signer:
    """The registry's audit signing key."""

    private: Ed25519PrivateKey

    @property
    def public_text(self) -> str:
        """The public key as pinned by verifiers: base64 of its 32 raw bytes."""
        return public_text(self.private.public_key())

    @property
    def key_id(self) -> str:
        return key_id(self.private.public_key())

    def sign(self, checkpoint: AuditCheckpoint) -> AuditCheckpoint:
        """The checkpoint with this key's id and signature."""
        signature = self.private.sign(signed_bytes(checkpoint))
        return checkpoint.model_copy(
            update={"key_id": self.key_id, "signature": base64.b64encode(signature).decode()}
        )


def signed_bytes(checkpoint: AuditCheckpoint) -> bytes:
    """What a signature covers: the registry, and the sequence number and hash of its head."""
    return json.dumps(
        ["vigie-audit-checkpoint-v1", checkpoint.registry, checkpoint.seq, checkpoint.head_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_text(public: Ed25519PublicKey) -> str:
    """Base64 of a public key's raw bytes: the form settings pin."""
    return base64.b64encode(_raw(public)).decode()


def key_id(public: Ed25519PublicKey) -> str:
    """Short id of a public key carried by the checkpoints it signs."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def generate_key_file(path: Path) -> Signer:
    """Make a new signing key at ``path`` (mode 0600, refusing to overwrite one) and a
    ``.pub`` file beside it holding the public key to pin."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    signer = Signer(private)
    path.with_suffix(".pub").write_text(signer.public_text + "\n", encoding="utf-8")
    return signer


def read_key_file(path: Path) -> Signer:
    """The signing key in ``path`` (PEM, PKCS#8, as `openssl genpkey -algorithm ed25519` writes)."""
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SigningKeyError(f"cannot read the audit signing key {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise SigningKeyError(f"{path} is not a PEM private key: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return Signer(private)


def load_signer(settings: RegistrySettings) -> Signer:
    """The registry's signing key: ``VIGIE_AUDIT_SIGNING_KEY_FILE``, required in production;
    elsewhere, when unset, the development key under .vigie/audit/ (made on first use)."""
    if settings.audit_signing_key_file is not None:
        return read_key_file(settings.audit_signing_key_file)
    if settings.env == "production":
        raise SigningKeyError(
            "VIGIE_AUDIT_SIGNING_KEY_FILE must name the registry's Ed25519 audit signing key "
            "when VIGIE_ENV=production (`vigie audit keygen --out FILE` makes one)"
        )
    try:
        return generate_key_file(DEVELOPMENT_KEY_FILE)
    except FileExistsError:
        return read_key_file(DEVELOPMENT_KEY_FILE)


def require_signer(settings: RegistrySettings) -> Signer:
    """The signing key, or stop the registry at start saying which setting is missing."""
    try:
        return load_signer(settings)
    except SigningKeyError as exc:
        raise SystemExit(f"vigie registry: audit signing key: {exc}") from exc


def parse_public_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """Public keys by id from base64 raw keys separated by commas, spaces or lines (``#``
    starts a comment)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for line in text.splitlines():
        for item in line.split("#", 1)[0].replace(",", " ").split():
            try:
                public = Ed25519PublicKey.from_public_bytes(base64.b64decode(item, validate=True))
            except (binascii.Error, ValueError) as exc:
                raise SigningKeyError(f"not a base64 Ed25519 public key: {item!r}") from exc
            keys[key_id(public)] = public
    return keys


def pinned_keys(settings: RegistrySettings) -> dict[str, Ed25519PublicKey]:
    """The public keys the verifier accepts checkpoints from."""
    text = settings.audit_verify_key
    if settings.audit_verify_key_file is not None:
        try:
            text += "\n" + settings.audit_verify_key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SigningKeyError(
                f"cannot read VIGIE_AUDIT_VERIFY_KEY_FILE {settings.audit_verify_key_file}: "
                f"{exc.strerror}"
            ) from exc
    return parse_public_keys(text)


def queue_checkpoint(
    session: Session, *, topic: str, registry: str, signer: Signer
) -> AuditCheckpoint | None:
    """Queue the chain's head, signed, in the outbox unless it was queued already, and commit;
    returns the checkpoint queued, if any.

    The event id derives from the head and the key, so an unchanged head (or a restart) adds
    nothing, and a new key signs the current head at once.
    """
    last = head(session)
    if last is None or last.seq is None:
        return None
    checkpoint = signer.sign(
        AuditCheckpoint(
            event_id=uuid.uuid5(
                _CHECKPOINT_NAMESPACE, f"{registry}:{last.seq}:{last.hash}:{signer.key_id}"
            ),
            seq=last.seq,
            head_hash=last.hash,
            registry=registry,
        )
    )
    event_id = str(checkpoint.event_id)
    if session.exec(select(OutboxEvent.id).where(col(OutboxEvent.event_id) == event_id)).first():
        return None
    enqueue(
        session,
        event_id=event_id,
        topic=topic,
        key=registry,
        event_type=EVENT_TYPE,
        payload=checkpoint.model_dump_json(),
    )
    session.commit()
    return checkpoint


class WitnessConflict(Exception):
    """Two validly signed checkpoints name different hashes for one record: the chain was
    rewritten."""


def check_signature(checkpoint: AuditCheckpoint, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """Why ``checkpoint`` cannot be trusted, or None when a pinned key signed it."""
    if checkpoint.signature is None or checkpoint.key_id is None:
        return "unsigned"
    public = keys.get(checkpoint.key_id)
    if public is None:
        return f"signed by key {checkpoint.key_id}, which is not pinned"
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public.verify(signature, signed_bytes(checkpoint))
    except (InvalidSignature, binascii.Error, ValueError):
        return f"signature does not verify with key {checkpoint.key_id}"
    return None


@dataclass
class Witness:
    """The heads a registry's signed checkpoints vouch for, and what was set aside."""

    heads: dict[int, str] = field(default_factory=dict)
    # One line per checkpoint of this registry that was ignored, with the reason.
    ignored: list[str] = field(default_factory=list)
    # Records of the topic that are not checkpoints at all.
    unreadable: int = 0


def witnessed_heads(
    settings: RegistrySettings,
    keys: dict[str, Ed25519PublicKey],
    *,
    registry: str,
    timeout_s: float | None = None,
) -> Witness:
    """The heads of ``registry`` signed by one of ``keys`` (TopicUnavailable if the broker
    cannot be read; a missing topic reads as empty); other registries' checkpoints are not
    this registry's witness and are skipped."""
    checkpoints, unreadable = read_topic(
        settings, settings.topics.audit_checkpoints, AuditCheckpoint, timeout_s=timeout_s
    )
    witness = Witness(unreadable=unreadable)
    for checkpoint in checkpoints:
        if checkpoint.registry != registry:
            continue
        problem = check_signature(checkpoint, keys)
        if problem is not None:
            witness.ignored.append(f"record {checkpoint.seq} ({checkpoint.event_id}): {problem}")
            continue
        known = witness.heads.setdefault(checkpoint.seq, checkpoint.head_hash)
        if known != checkpoint.head_hash:
            raise WitnessConflict(
                f"record {checkpoint.seq} was witnessed with two hashes, both signed: {known} "
                f"and {checkpoint.head_hash}"
            )
    return witness
