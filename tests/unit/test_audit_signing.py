"""Signed audit checkpoints: keys, rotation, what a verifier accepts, and the topic that keeps
them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka.admin import ACLOperation, ResourceType

from services.registry.audit.witness import (
    DEVELOPMENT_KEY_FILE,
    Signer,
    SigningKeyError,
    check_signature,
    generate_key_file,
    load_signer,
    parse_public_keys,
    read_key_file,
    require_signer,
)
from services.registry.settings import RegistrySettings
from vigie.contracts import AuditCheckpoint
from vigie.kafka import topic_acls
from vigie.settings import TopicNames
from vigie.topics import AUDIT_CHECKPOINTS, REGISTRY


def checkpoint(seq: int = 7, head_hash: str = "a" * 64) -> AuditCheckpoint:
    return AuditCheckpoint(
        event_id=uuid.uuid4(), seq=seq, head_hash=head_hash, registry="vigie-registry"
    )


def test_a_pinned_key_accepts_its_signatures_and_nothing_else(tmp_path: Path) -> None:
    signer = generate_key_file(tmp_path / "audit.key")
    keys = parse_public_keys(signer.public_text)
    signed = signer.sign(checkpoint())
    assert check_signature(signed, keys) is None
    assert check_signature(checkpoint(), keys) == "unsigned"
    # The signature covers the head: moving it to another hash, sequence or registry fails.
    for field, value in (("head_hash", "b" * 64), ("seq", 8), ("registry", "elsewhere")):
        moved = signed.model_copy(update={field: value})
        assert "does not verify" in (check_signature(moved, keys) or "")
    stranger = Signer(Ed25519PrivateKey.generate())
    assert "not pinned" in (check_signature(stranger.sign(checkpoint()), keys) or "")


def test_rotation_pins_several_keys(tmp_path: Path) -> None:
    old = generate_key_file(tmp_path / "old.key")
    new = generate_key_file(tmp_path / "new.key")
    keys = parse_public_keys(f"{old.public_text}, {new.public_text}")
    assert set(keys) == {old.key_id, new.key_id}
    assert check_signature(old.sign(checkpoint()), keys) is None
    assert check_signature(new.sign(checkpoint()), keys) is None
    from_file = parse_public_keys(f"# audit keys\n{old.public_text}\n{new.public_text}  # 2026\n")
    assert set(from_file) == set(keys)
    with pytest.raises(SigningKeyError):
        parse_public_keys("not-a-key")


def test_key_files_are_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    signer = generate_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.with_suffix(".pub").read_text().strip() == signer.public_text
    assert read_key_file(path).public_text == signer.public_text
    with pytest.raises(FileExistsError):
        generate_key_file(path)
    path.with_suffix(".pub").write_text("garbage")
    with pytest.raises(SigningKeyError):
        read_key_file(path.with_suffix(".pub"))


def test_production_refuses_to_run_without_a_signing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    production = RegistrySettings(env="production", pseudonym_key="p" * 40)
    with pytest.raises(SigningKeyError, match="VIGIE_AUDIT_SIGNING_KEY_FILE"):
        load_signer(production)
    with pytest.raises(SystemExit, match="VIGIE_AUDIT_SIGNING_KEY_FILE"):
        require_signer(production)  # what `vigie serve registry` does first
    assert not DEVELOPMENT_KEY_FILE.exists()
    # Development makes its own key once, under .vigie/audit/, and keeps it.
    first = load_signer(RegistrySettings())
    assert DEVELOPMENT_KEY_FILE.stat().st_mode & 0o777 == 0o600
    assert load_signer(RegistrySettings()).public_text == first.public_text
    given = generate_key_file(tmp_path / "prod.key")
    configured = production.model_copy(update={"audit_signing_key_file": tmp_path / "prod.key"})
    assert load_signer(configured).public_text == given.public_text


def test_the_witness_topic_keeps_everything_and_only_the_registry_writes_it() -> None:
    assert AUDIT_CHECKPOINTS.config == {"retention.ms": "-1", "cleanup.policy": "delete"}
    assert AUDIT_CHECKPOINTS.writers == (REGISTRY,) and AUDIT_CHECKPOINTS.readers == ()
    names = TopicNames("ns")
    on_witness = [
        acl
        for acl in topic_acls(names)
        if acl.resource_pattern.resource_type is ResourceType.TOPIC
        and acl.resource_pattern.resource_name == names.audit_checkpoints
    ]
    writers = {a.principal for a in on_witness if a.operation is ACLOperation.WRITE}
    assert writers == {f"User:{REGISTRY}"}
    # Nobody else is granted anything on it; the operator reads it as super user.
    assert {a.principal for a in on_witness} == {f"User:{REGISTRY}"}
