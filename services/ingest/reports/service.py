"""Report submission: build the pseudonymised event, publish it durably, answer with a receipt."""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from collections import OrderedDict

from services.ingest.reports.models import Receipt, ReportCreate
from vigie.contracts import ReportSubmitted, utcnow
from vigie.rules.privacy import pseudonymise, scrub

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class IdempotencyConflict(Exception):
    """The idempotency key was already used with a different body."""


def tracking_number(report_id: uuid.UUID) -> str:
    """Short, readable number quoted to the reporter (Crockford base32 of 40 bits of the id)."""
    value = int.from_bytes(report_id.bytes[:5], "big")
    chars = "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(8)))
    return f"VG-{chars[:4]}-{chars[4:]}"


def status_token(report_id: uuid.UUID, *, key: bytes) -> str:
    """Secret of the reporter's status link, derived so that a retried submission gets the same."""
    return hmac.new(key, b"status:" + report_id.bytes, hashlib.sha256).hexdigest()[:32]


def report_id_for(idempotency_key: str | None, *, fingerprint: str, key: bytes) -> uuid.UUID:
    """A fresh id, or one derived from the idempotency key and the body so that a retry is the
    same report whichever ingest replica answers it, before or after a restart.

    Deriving the id (rather than remembering it) makes idempotency hold across replicas and
    restarts with no shared store: the registry records a report id once. The body's
    fingerprint is part of it, so a key reused with another body that reaches another replica
    makes a second report rather than vanishing into the first (the replica that saw the first
    answers 409). Keyed with the deployment's secret: the id reveals nothing of the body.
    """
    if idempotency_key is None:
        return uuid.uuid4()
    digest = hmac.new(
        key, f"report:{fingerprint}:{idempotency_key}".encode(), hashlib.sha256
    ).digest()
    value = int.from_bytes(digest[:16], "big")
    # RFC 9562 version 8 (custom) with the RFC variant: a valid UUID that claims no algorithm.
    value = (value & ~(0xF << 76)) | (0x8 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return uuid.UUID(int=value)


def build_event(
    form: ReportCreate, *, report_id: uuid.UUID, key: bytes, reporter_ref: str | None = None
) -> ReportSubmitted:
    """The event published for a submission: identifiers pseudonymised, narrative scrubbed."""
    data = form.model_dump(exclude={"patient_identifier", "narrative"})
    return ReportSubmitted(
        **data,
        report_id=report_id,
        reporter_ref=reporter_ref,
        tracking_number=tracking_number(report_id),
        narrative=scrub(form.narrative, key=key),
        patient_pseudonym=(
            pseudonymise(form.patient_identifier, key=key) if form.patient_identifier else None
        ),
        status_token_hash=hashlib.sha256(status_token(report_id, key=key).encode()).hexdigest(),
    )


def make_receipt(event: ReportSubmitted, *, registry_url: str, key: bytes) -> Receipt:
    """The receipt of a published report."""
    token = status_token(event.report_id, key=key)
    return Receipt(
        report_id=event.report_id,
        tracking_number=event.tracking_number,
        status_url=f"{registry_url.rstrip('/')}/status/{token}",
        received_at=utcnow(),
    )


def body_fingerprint(form: ReportCreate) -> str:
    """Hash of a submission, to tell a retry from a different report under the same key."""
    return hashlib.sha256(form.model_dump_json().encode()).hexdigest()


class IdempotencyStore:
    """Receipts already given, by idempotency key (bounded, most recent kept)."""

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[str, tuple[str, Receipt]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: str, fingerprint: str) -> Receipt | None:
        """The receipt given for ``key``; raises if the key came with another body."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
        if found[0] != fingerprint:
            raise IdempotencyConflict(key)
        return found[1]

    def put(self, key: str, fingerprint: str, receipt: Receipt) -> None:
        """Remember the receipt given for ``key``."""
        with self._lock:
            self._entries[key] = (fingerprint, receipt)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
