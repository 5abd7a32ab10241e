"""Report submission: build the pseudonymised event, publish it durably, answer with a receipt."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import uuid
from collections import OrderedDict

from services.ingest.reports.models import Receipt, ReportCreate
from vigie.contracts import AiInvolvement, ReportSubmitted, utcnow
from vigie.rules.privacy import pseudonymise, scrub

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class IdempotencyConflict(Exception):
    """The idempotency key was already used with a different body."""


def tracking_number(report_id: uuid.UUID) -> str:
    """Short, readable number quoted to the reporter (Crockford base32 of 40 bits of the id)."""
    value = int.from_bytes(report_id.bytes[:5], "big")
    chars = "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(8)))
    return f"VG-{chars[:4]}-{chars[4:]}"


def new_status_token() -> str:
    """The secret of a reporter's status link: random, never derived from anything.

    Only its hash travels (``status_token_hash``) and is stored: neither the report id nor any
    key of the deployment leads to it. A retry answered by another replica gets a token of its
    own; the registry accepts the hash of every receipt of the same report.
    """
    return secrets.token_urlsafe(32)


def hash_status_token(token: str) -> str:
    """SHA-256 of a status token, as the event carries it and the registry looks it up."""
    return hashlib.sha256(token.encode()).hexdigest()


def principal_scope(reporter_ref: str) -> str:
    """Idempotency scope of a token holder: its reporter pseudonym."""
    return f"principal:{reporter_ref}"


# Idempotency scope of an anonymous submission: its key is a submission nonce that only the party
# it was issued to knows (see services.ingest.reports.nonces).
NONCE_SCOPE = "nonce"


def report_id_for(
    idempotency_key: str | None, *, scope: str, fingerprint: str, key: bytes
) -> uuid.UUID:
    """A fresh id, or one derived from the caller's scope, the idempotency key and the body so
    that a retry is the same report whichever ingest replica answers it, before or after a
    restart.

    Deriving the id (rather than remembering it) makes idempotency hold across replicas and
    restarts with no shared store: the registry records a report id once. The ``scope`` (the
    token holder's pseudonym, or :data:`NONCE_SCOPE` for a server-issued nonce) is part of it,
    so two parties using the same key make two reports instead of one party's report hiding
    the other's. The body's fingerprint is part of it too, so a key reused with another body
    that reaches another replica makes a second report rather than vanishing into the first
    (the replica that saw the first answers 409). Keyed with a key derived for report ids: the
    id reveals nothing of the body.
    """
    if idempotency_key is None:
        return uuid.uuid4()
    message = json.dumps(["report", scope, fingerprint, idempotency_key]).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    value = int.from_bytes(digest[:16], "big")
    # RFC 9562 version 8 (custom) with the RFC variant: a valid UUID that claims no algorithm.
    value = (value & ~(0xF << 76)) | (0x8 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return uuid.UUID(int=value)


def build_event(
    form: ReportCreate,
    *,
    report_id: uuid.UUID,
    key: bytes,
    reporter_ref: str | None = None,
    status_token: str | None = None,
    pseudonym_version: int = 1,
) -> ReportSubmitted:
    """The event published for a submission: identifiers pseudonymised, narrative scrubbed.

    ``key`` is the pseudonym key of version ``pseudonym_version``; ``status_token`` is the
    secret of the reporter's status link, of which the event carries only the hash.
    """
    data = form.model_dump(exclude={"patient_identifier", "narrative", "ai"})
    ai = form.ai
    if ai is not None and ai.output:
        # Free text of the report like the narrative: scrubbed by the same rule.
        ai = ai.model_copy(update={"output": scrub(ai.output, key=key, version=pseudonym_version)})
    return ReportSubmitted(
        **data,
        ai=AiInvolvement.model_validate(ai.model_dump()) if ai is not None else None,
        report_id=report_id,
        reporter_ref=reporter_ref,
        tracking_number=tracking_number(report_id),
        narrative=scrub(form.narrative, key=key, version=pseudonym_version),
        patient_pseudonym=(
            pseudonymise(form.patient_identifier, key=key, version=pseudonym_version)
            if form.patient_identifier
            else None
        ),
        status_token_hash=hash_status_token(status_token) if status_token else None,
    )


def make_receipt(event: ReportSubmitted, *, registry_url: str, status_token: str) -> Receipt:
    """The receipt of a published report, with what was sent as it was published."""
    return Receipt(
        report_id=event.report_id,
        tracking_number=event.tracking_number,
        status_url=f"{registry_url.rstrip('/')}/status/{status_token}",
        received_at=utcnow(),
        narrative=event.narrative,
        establishment=event.establishment,
    )


def body_fingerprint(form: ReportCreate) -> str:
    """Hash of a submission, to tell a retry from a different report under the same key."""
    return hashlib.sha256(form.model_dump_json().encode()).hexdigest()


class IdempotencyStore:
    """Receipts already given, by caller scope and idempotency key (bounded, most recent kept).

    Scoped like report ids: a key another party uses never returns this party's receipt (and
    its status link).
    """

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[str, Receipt]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, scope: str, key: str, fingerprint: str) -> Receipt | None:
        """The receipt given for ``key`` in ``scope``; raises if the key came with another
        body."""
        entry = (scope, key)
        with self._lock:
            found = self._entries.get(entry)
            if found is None:
                return None
            self._entries.move_to_end(entry)
        if found[0] != fingerprint:
            raise IdempotencyConflict(key)
        return found[1]

    def put(self, scope: str, key: str, fingerprint: str, receipt: Receipt) -> None:
        """Remember the receipt given for ``key`` in ``scope``."""
        entry = (scope, key)
        with self._lock:
            self._entries[entry] = (fingerprint, receipt)
            self._entries.move_to_end(entry)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
