"""Keys derived from the one secret, versioned pseudonyms, and the development key's limits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.ingest.settings import IngestSettings
from services.registry.settings import RegistrySettings
from services.triage.settings import TriageSettings
from vigie.contracts import ReportSubmitted
from vigie.rules.privacy import pseudonymise, scrub
from vigie.settings import DEVELOPMENT_PSEUDONYM_KEY, derive_key, is_loopback

SECRET = "s" * 40


def test_each_use_has_its_own_key_and_version_1_is_the_secret_itself() -> None:
    settings = IngestSettings(pseudonym_key=SECRET)
    keys = [
        settings.pseudonym_key_bytes,
        settings.report_id_key_bytes,
        settings.submission_nonce_key_bytes,
    ]
    assert len(set(keys)) == 3
    # Version 1: pseudonyms already recorded keep their meaning.
    assert settings.pseudonym_key_bytes == SECRET.encode()
    assert pseudonymise("IPP 1234", key=settings.pseudonym_key_bytes) == pseudonymise(
        "IPP 1234", key=SECRET.encode()
    )
    rotated = IngestSettings(pseudonym_key=SECRET, pseudonym_key_version=2)
    assert rotated.pseudonym_key_bytes not in {*keys, SECRET.encode()}
    assert rotated.report_id_key_bytes == settings.report_id_key_bytes
    assert derive_key(b"a", "x") != derive_key(b"b", "x") != derive_key(b"a", "y")
    assert len(derive_key(b"a", "x")) == 32


def test_pseudonyms_say_which_key_version_made_them() -> None:
    settings = IngestSettings(pseudonym_key=SECRET, pseudonym_key_version=12)
    key, version = settings.pseudonym_key_bytes, settings.pseudonym_key_version
    pseudonym = pseudonymise("1 85 05 78 006 084 36", key=key, version=version)
    assert pseudonym.startswith("ps12:") and len(pseudonym) == 5 + 32
    # The contracts accept every version's form, and nothing else.
    base = {
        "report_id": "00000000-0000-4000-8000-0000000000a1",
        "tracking_number": "VG-0000-0000",
        "kind": "near_miss",
        "reporter_role": "physician",
        "device": {"name": "D", "manufacturer": "M", "model_version": "1"},
        "awareness_date": "2026-01-02",
        "outcome": "no_harm",
        "language": "fr",
        "narrative": "Un texte assez long.",
    }
    for good in (pseudonym, "ps1:" + "a" * 32, "ps999:" + "a" * 32):
        ReportSubmitted.model_validate({**base, "patient_pseudonym": good})
    for bad in ("ps0:" + "a" * 32, "ps1000:" + "a" * 32, "ps:" + "a" * 32, "psx:" + "a" * 32):
        with pytest.raises(ValidationError):
            ReportSubmitted.model_validate({**base, "patient_pseudonym": bad})
    # Text scrubbed under an earlier version stays as it is under the next one.
    old = scrub("IPP 40012345, tél. 06 12 34 56 78", key=b"old")
    assert scrub(old, key=key, version=version) == old
    assert "[ps12:" in scrub("IPP 40012345", key=key, version=version)
    with pytest.raises(ValidationError):
        IngestSettings(pseudonym_key_version=0)


@pytest.mark.parametrize(
    ("settings", "values", "named"),
    [
        (IngestSettings, {"ingest_host": "0.0.0.0"}, "VIGIE_INGEST_HOST=0.0.0.0"),
        (IngestSettings, {"ingest_metrics_host": "::"}, "VIGIE_INGEST_METRICS_HOST=::"),
        (RegistrySettings, {"registry_host": "10.0.0.5"}, "VIGIE_REGISTRY_HOST=10.0.0.5"),
        (
            RegistrySettings,
            {"registry_metrics_host": "vigie.example.org"},
            "VIGIE_REGISTRY_METRICS_HOST=vigie.example.org",
        ),
        (TriageSettings, {"triage_metrics_host": "0.0.0.0"}, "VIGIE_TRIAGE_METRICS_HOST=0.0.0.0"),
    ],
)
# Production refuses the development key anywhere; elsewhere, wherever a listener is exposed.
@pytest.mark.parametrize("env", ["development", "test"])
def test_the_development_key_is_refused_on_a_listener_other_machines_reach(
    settings: type[IngestSettings | RegistrySettings | TriageSettings],
    values: dict[str, str],
    named: str,
    env: str,
) -> None:
    with pytest.raises(ValidationError, match="development key") as refused:
        settings.model_validate({**values, "env": env})
    assert named in str(refused.value)
    # With a secret of its own, the same listener is fine (outside production too).
    settings.model_validate({**values, "env": env, "pseudonym_key": SECRET})


def test_the_development_key_is_fine_on_loopback() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host)
        IngestSettings(ingest_host=host, ingest_metrics_host=host)
    for host in ("0.0.0.0", "::", "192.168.1.4", "ingest", "localhost.example.org"):
        assert not is_loopback(host)
    # No metrics listener at all (port 0): its host does not matter.
    IngestSettings(ingest_metrics_host="0.0.0.0", ingest_metrics_port=0)
    assert IngestSettings().pseudonym_key.get_secret_value() == DEVELOPMENT_PSEUDONYM_KEY
