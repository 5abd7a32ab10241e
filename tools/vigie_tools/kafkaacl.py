"""Principals of the local Kafka cluster: their SCRAM passwords, users and ACLs.

The cluster authenticates every client with SASL/SCRAM-SHA-512 and authorizes with Kafka's
StandardAuthorizer, denying what no ACL allows. This module keeps the passwords (made once with
:func:`secrets.token_urlsafe`, one 0600 file per principal under ``<home>/credentials/``, shared
by every cluster size of the home), creates the SCRAM users through the admin API, and gives the
ACLs of the external roles: a device writes telemetry and nothing else, a regulator reads its
topic with consumer groups under its own prefix. Service principals' topic ACLs come with the
topics (``vigie.kafka.ensure_topics``), not from here.

No password is ever printed, logged or put on a command line.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourceType,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from vigie import topics
from vigie.topics import ALERTS, TELEMETRY, device_telemetry_topic
from vigie.topics import slug as topic_slug
from vigie_tools.kafkatls import locked

ADMIN = "vigie-admin"
SERVICE_PRINCIPALS = topics.SERVICE_PRINCIPALS
TELEMETRY_TOPIC = TELEMETRY.name
ALERTS_TOPIC = ALERTS.name
ROLES = ("device", "regulator", "service")
# The SCRAM iteration count Kafka's own tools use by default.
SCRAM_ITERATIONS = 8192


class PrincipalError(ValueError):
    """A principal that cannot be made (bad role or name) or a user the broker refused."""


def slug(text: str) -> str:
    """Lower-case letters, digits and dashes: safe in a principal, a file name and an ACL (the
    same slug names the manufacturer's device telemetry topic)."""
    out = topic_slug(text)
    if not out:
        raise PrincipalError(f"{text!r} gives an empty name")
    return out


def principal_for(role: str, name: str, manufacturer: str | None = None) -> str:
    """``device-<manufacturer>``, ``regulator-<name>`` or ``vigie-<name>``.

    A device principal is per manufacturer: the ingest side already ties each device to its
    manufacturer, and telemetry ACLs do not distinguish devices of one manufacturer.
    """
    if role == "device":
        return f"device-{slug(manufacturer or name)}"
    if role == "regulator":
        return f"regulator-{slug(name)}"
    if role == "service":
        bare = slug(name)
        return bare if bare.startswith("vigie-") else f"vigie-{bare}"
    raise PrincipalError(f"unknown role {role!r} (one of {', '.join(ROLES)})")


def credentials_dir(home: Path) -> Path:
    """Where the passwords of a cluster home are kept (owner-only)."""
    return home.resolve() / "credentials"


def password(home: Path, principal: str, *, rotate: bool = False) -> str:
    """The principal's password: read from its 0600 file, made (or remade with ``rotate``)."""
    folder = credentials_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / f"{principal}.password"
    with locked(folder):
        if path.exists() and not rotate:
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
        value = secrets.token_urlsafe(32)
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        tmp.touch(mode=0o600)
        tmp.write_text(value + "\n", encoding="utf-8")
        tmp.replace(path)
        return value


def group_prefix(principal: str) -> str:
    """Consumer groups an external principal may use: ``<principal>.<anything>``."""
    return f"{principal}."


_REGULATOR_TOPIC = re.compile(
    r"^([A-Za-z0-9_-]+\.)?" + re.escape(ALERTS_TOPIC) + r"(\.sub\.[A-Za-z0-9_-]+)?$"
)


def check_topic(role: str, manufacturer: str | None, name: str, topic: str) -> None:
    """Refuse a ``--topic`` outside what the role may have: a device its manufacturer's device
    telemetry topic (in any namespace), a regulator the alerts topic or one of its
    subscription topics."""
    if role == "device":
        own = device_topic(manufacturer or name)
        if topic != own and not re.fullmatch(r"[A-Za-z0-9_-]+\." + re.escape(own), topic):
            raise PrincipalError(f"a device of {manufacturer or name!r} may only write {own!r}")
    elif role == "regulator" and not _REGULATOR_TOPIC.fullmatch(topic):
        raise PrincipalError(
            f"a regulator reads {ALERTS_TOPIC!r} or a subscription topic "
            f"({ALERTS_TOPIC}.sub.<name>), not {topic!r}"
        )


def device_topic(manufacturer: str, *, telemetry_topic: str = TELEMETRY_TOPIC) -> str:
    """The telemetry topic a manufacturer's devices write to (theirs alone)."""
    slug(manufacturer)  # refuses a name that gives an empty slug
    return device_telemetry_topic(telemetry_topic, manufacturer)


def role_acls(principal: str, role: str, *, topic: str | None = None) -> list[ACL]:
    """The ACLs of an external principal (least privilege).

    - device: WRITE and DESCRIBE on its manufacturer's own telemetry topic
      (``vigie.telemetry.v1.device.<manufacturer>``, given as ``topic``), IDEMPOTENT_WRITE on
      the cluster (an idempotent producer asks for a producer id); it reads nothing. Consumers
      accept from that topic only that manufacturer's devices.
    - regulator: READ and DESCRIBE on its topic (alerts by default), READ on the consumer
      groups named ``<principal>.<...>`` only, so it cannot join or reset another's group.
    - service: none here; the topics' own ACLs are made with the topics.
    """
    user = f"User:{principal}"

    def allow(operation: ACLOperation, pattern: ResourcePattern) -> ACL:
        return ACL(user, "*", operation, ACLPermissionType.ALLOW, pattern)

    if role == "device":
        if topic is None:
            raise PrincipalError("a device principal writes its manufacturer's topic: give it")
        target = ResourcePattern(ResourceType.TOPIC, topic)
        cluster = ResourcePattern(ResourceType.CLUSTER, "kafka-cluster")
        return [
            allow(ACLOperation.WRITE, target),
            allow(ACLOperation.DESCRIBE, target),
            allow(ACLOperation.IDEMPOTENT_WRITE, cluster),
        ]
    if role == "regulator":
        target = ResourcePattern(ResourceType.TOPIC, topic or ALERTS_TOPIC)
        # "." cannot occur in a slug: regulator-ansm.* never covers regulator-ansm-lyon.*
        groups = ResourcePattern(
            ResourceType.GROUP, group_prefix(principal), ACLResourcePatternType.PREFIXED
        )
        return [
            allow(ACLOperation.READ, target),
            allow(ACLOperation.DESCRIBE, target),
            allow(ACLOperation.READ, groups),
        ]
    if role == "service":
        return []
    raise PrincipalError(f"unknown role {role!r} (one of {', '.join(ROLES)})")


def scram_users(admin: Any) -> set[str]:
    """Users that have a SCRAM-SHA-512 credential on the cluster."""
    described = admin.describe_user_scram_credentials()
    out = set()
    for user, info in described.items():
        mechanisms = {c.get("mechanism") for c in info.get("credential_infos") or []}
        if not info.get("error") and ScramMechanism.SCRAM_SHA_512 in mechanisms:
            out.add(user)
    return out


def upsert_users(admin: Any, passwords: Mapping[str, str]) -> None:
    """Create or update SCRAM-SHA-512 users; raise if the broker refuses any."""
    if not passwords:
        return
    result = admin.alter_user_scram_credentials(
        [
            UserScramCredentialUpsertion(
                user, ScramMechanism.SCRAM_SHA_512, secret, iterations=SCRAM_ITERATIONS
            )
            for user, secret in passwords.items()
        ]
    )
    # The result maps each user to None or an error message; it never holds a password.
    failed = {user: error for user, error in dict(result).items() if error}
    if failed:
        raise PrincipalError(f"the broker refused SCRAM users: {failed}")


def create_acls(admin: Any, acls: Iterable[ACL]) -> None:
    """Create ACLs (creating an existing ACL is a no-op on the broker); raise on refusal."""
    acls = list(acls)
    if not acls:
        return
    result = admin.create_acls(acls)
    failed = result.get("failed") or []
    if failed:
        raise PrincipalError(f"the broker refused ACLs: {failed}")
