"""Implementations of the ``vigie`` sub-commands that belong to the platform as a whole."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from vigie.settings import CommonSettings

log = logging.getLogger(__name__)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def serve(args: argparse.Namespace) -> int:
    """Run one service in the foreground."""
    if args.service == "ingest":
        from services.ingest.app import main as ingest_main

        ingest_main()
    elif args.service == "triage":
        from services.triage.app import main as triage_main

        triage_main()
    else:
        from services.registry.app import main as registry_main

        registry_main()
    return 0


def operator_defaults(home: Path) -> None:
    """Operator commands (topics, alerts, audit, training) connect as the operator principal
    of the local cluster unless Kafka credentials are configured; services never do."""
    configured = any(
        os.environ.get(name)
        for name in ("VIGIE_KAFKA_CLIENT_PROPERTIES", "VIGIE_KAFKA_SASL_USERNAME")
    )
    admin = home / "admin.properties"
    if not configured and admin.exists():
        os.environ["VIGIE_KAFKA_CLIENT_PROPERTIES"] = str(admin.resolve())


def create_topics(args: argparse.Namespace) -> int:
    """Create the topics of the platform."""
    from vigie.kafka import ensure_topics

    for name in ensure_topics(CommonSettings()):
        _out(f"{name} (+ {name}.dlq)")
    return 0


def wait_http(url: str, *, timeout_s: float, procs: list[subprocess.Popen[bytes]]) -> None:
    """Wait until ``url`` answers 200; fail early if a service process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{' '.join(map(str, proc.args))} exited with {proc.returncode}")  # type: ignore[arg-type]
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not become ready in {timeout_s:.0f} s")


def upgrade_registry_database(env: dict[str, str], log: IO[bytes]) -> None:
    """``vigie db upgrade`` with the registry's environment, logging to ``log``.

    The registry refuses a database behind the code: `vigie run` brings it to the latest
    revision first (nothing to do when it is there), as a deployment's migration step does.
    """
    subprocess.run(
        [sys.executable, "-m", "vigie_tools", "db", "upgrade"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        check=True,
    )


def start_services(
    env: dict[str, str], log_dir: Path, *, credentials: dict[str, Path] | None = None
) -> list[subprocess.Popen[bytes]]:
    """Start ingest, triage and registry as child processes logging to ``log_dir``, each with
    its own Kafka principal (``credentials``: service -> client properties file)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for service in ("registry", "triage", "ingest"):
        logfile = (log_dir / f"{service}.log").open("ab")
        service_env = dict(env)
        if credentials and service in credentials:
            # A path, never the password itself: secrets stay out of argv and the environment.
            service_env["VIGIE_KAFKA_CLIENT_PROPERTIES"] = str(credentials[service])
        if service == "registry":
            upgrade_registry_database(service_env, logfile)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "vigie_tools", "serve", service],
                env=service_env,
                stdout=logfile,
                stderr=subprocess.STDOUT,
            )
        )
    return procs


def stop_services(procs: list[subprocess.Popen[bytes]], *, timeout_s: float = 15) -> None:
    """Ask every service to stop, then kill what did not."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_platform(args: argparse.Namespace) -> int:
    """Start Kafka, topics and the three services; print the URLs; stop all on Ctrl-C."""
    import vigie_tools.localkafka as localkafka
    from vigie.kafka import ensure_topics

    spec = localkafka.ClusterSpec()
    started_kafka = False
    if not args.no_kafka:
        _out("Starting Apache Kafka (KRaft, SASL/SCRAM over TLS, 127.0.0.1:9092)...")
        started_kafka = not all(node.running for node in localkafka.status(spec))
        localkafka.start(spec)
    operator_defaults(spec.home)
    settings = CommonSettings()
    ensure_topics(settings)  # topics, dead-letter topics and the services' ACLs
    env = {**os.environ, "VIGIE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers}
    credentials = {
        service: path
        for service in ("ingest", "triage", "registry")
        if (path := localkafka.client_properties(spec, f"vigie-{service}")).exists()
    }
    log_dir = Path(".vigie/logs")
    procs = start_services(env, log_dir, credentials=credentials)
    interrupted = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        wait_http("http://127.0.0.1:8001/readyz", timeout_s=90, procs=procs)
        wait_http("http://127.0.0.1:8000/readyz", timeout_s=90, procs=procs)
        _out("")
        _out("Vigie is running:")
        _out("  report form (FR/EN)  http://127.0.0.1:8000/")
        _out("  ingest API           http://127.0.0.1:8000/docs")
        _out("  registry API         http://127.0.0.1:8001/docs")
        _out("  metrics              :8003/metrics  :8004/metrics  :8002/metrics (triage)")
        _out("  Kafka                127.0.0.1:9092")
        _out(f"  logs                 {log_dir}/")
        _out("Regulator alerts:  vigie alerts     API token:  vigie token create --role regulator")
        _out("Press Ctrl-C to stop.")
        while not interrupted:
            for proc in procs:
                if proc.poll() is not None:
                    log.error("a service stopped; see %s", log_dir)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        _out("Stopping services...")
        stop_services(procs)
        if started_kafka:
            _out("Stopping Kafka...")
            localkafka.stop(spec)
        _out("Stopped.")


def tail_alerts(args: argparse.Namespace) -> int:
    """Print regulator alerts as JSON lines, as a regulator's script would read them."""
    from vigie.kafka import make_consumer

    settings = CommonSettings()
    consumer = make_consumer(
        settings,
        settings.topics.alerts,
        group_id=args.group,
        auto_offset_reset="earliest" if args.from_beginning else "latest",
        # Offsets are committed after the alert was printed, never before: a crash between
        # the two prints it again (its event id tells) rather than skip it.
        enable_auto_commit=False,
        consumer_timeout_ms=int(args.timeout * 1000) if args.timeout else float("inf"),
    )
    seen: set[str] = set()
    count = 0
    try:
        for record in consumer:
            alert = json.loads(record.value)
            # The outbox relays at least once: the alert id makes a repeat recognisable.
            if alert["event_id"] in seen:
                continue
            seen.add(alert["event_id"])
            _out(json.dumps(alert, ensure_ascii=False))
            if args.group is not None:
                consumer.commit()
            count += 1
            if args.max is not None and count >= args.max:
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return 0


def _registry_engine() -> Any:
    from services.registry.db import make_engine, require_head
    from services.registry.settings import RegistrySettings

    engine = make_engine(RegistrySettings().database_url)
    require_head(engine)
    return engine


def db_upgrade(args: argparse.Namespace) -> int:
    """Bring the registry database (``VIGIE_DATABASE_URL``) to the latest migration."""
    from services.registry.db import upgrade_url
    from services.registry.settings import RegistrySettings

    before, after = upgrade_url(RegistrySettings().database_url)
    if before == after:
        _out(f"at {after} (head): nothing to do")
    else:
        _out(f"upgraded from {before or 'an empty database'} to {after} (head)")
    return 0


def db_current(args: argparse.Namespace) -> int:
    """Print the registry database's revision and the latest; exit 1 when they differ."""
    from services.registry.db import current, head, make_engine
    from services.registry.settings import RegistrySettings

    engine = make_engine(RegistrySettings().database_url)
    try:
        at, latest = current(engine), head()
    finally:
        engine.dispose()
    _out(f"current {at or 'none'}")
    _out(f"head    {latest}")
    if at != latest:
        sys.stderr.write("vigie db: the database is behind the code; run `vigie db upgrade`\n")
        return 1
    return 0


def create_token(args: argparse.Namespace) -> int:
    """Issue a registry API token and print it once."""
    from datetime import timedelta

    from sqlmodel import Session

    from services.registry.auth.models import Role
    from services.registry.auth.service import create_token as issue

    with Session(_registry_engine()) as session:
        try:
            token = issue(
                session,
                role=Role(args.role),
                manufacturer=args.manufacturer,
                label=args.label,
                expires_in=timedelta(days=args.expires_in_days),
            )
        except ValueError as exc:
            sys.stderr.write(f"vigie token create: {exc}\n")
            return 2
    _out(token)
    return 0


def _when(at: Any) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M")


def list_tokens(args: argparse.Namespace) -> int:
    """Print every token (never a secret: only their hashes are stored)."""
    from sqlmodel import Session

    from services.registry.auth.service import list_tokens as tokens

    columns = ("id", "role", "manufacturer", "label", "created", "expires", "last used", "revoked")
    _out("\t".join(columns))
    with Session(_registry_engine()) as session:
        for t in tokens(session):
            row = (
                str(t.token_id),
                t.role.value,
                t.manufacturer or "-",
                t.label or "-",
                _when(t.created_at),
                _when(t.expires_at) if t.expires_at else "never",
                _when(t.last_used_at),
                _when(t.revoked_at),
            )
            _out("\t".join(row))
    return 0


def revoke_token(args: argparse.Namespace) -> int:
    """Revoke a token at once (its next request gets 401)."""
    import uuid

    from sqlmodel import Session

    from services.registry.auth.service import UnknownToken
    from services.registry.auth.service import revoke_token as revoke

    try:
        token_id = uuid.UUID(args.token_id)
    except ValueError:
        sys.stderr.write(f"vigie token revoke: {args.token_id!r} is not a token id\n")
        return 2
    with Session(_registry_engine()) as session:
        try:
            token = revoke(session, token_id, reason=args.reason)
        except UnknownToken:
            sys.stderr.write(f"vigie token revoke: no token {token_id}\n")
            return 1
        _out(f"token {token_id} revoked at {_when(token.revoked_at)} UTC")
    return 0


def audit_keygen(args: argparse.Namespace) -> int:
    """Make an Ed25519 audit signing key (mode 0600) and print its public key to pin."""
    from services.registry.audit.witness import generate_key_file

    try:
        signer = generate_key_file(Path(args.out))
    except FileExistsError:
        sys.stderr.write(f"vigie audit keygen: {args.out} exists; it is not replaced\n")
        return 2
    _out(signer.public_text)
    return 0


def _verify_keys(settings: Any) -> dict[str, Any]:
    """The pinned public keys; on a development machine with none pinned, the local key's."""
    from services.registry.audit.witness import DEVELOPMENT_KEY_FILE, parse_public_keys, pinned_keys

    keys = pinned_keys(settings)
    local = DEVELOPMENT_KEY_FILE.with_suffix(".pub")
    if not keys and settings.env != "production" and local.exists():
        _out(f"no key pinned (VIGIE_AUDIT_VERIFY_KEY): using the development key {local}")
        keys = parse_public_keys(local.read_text(encoding="utf-8"))
    return keys


def verify_audit(args: argparse.Namespace) -> int:
    """Check the audit chain against the signed heads witnessed on Kafka (unless
    ``--chain-only``), then the rows against the states the chain recorded. Exit 0 when all
    holds, 1 when something was tampered with or the witness is gone, 2 when it cannot be
    checked (Kafka unreachable, no verification key pinned)."""
    from sqlmodel import Session

    from services.registry.audit.service import verify
    from services.registry.audit.witness import (
        SigningKeyError,
        Witness,
        WitnessConflict,
        witnessed_heads,
    )
    from services.registry.settings import RegistrySettings
    from vigie.kafka import TopicUnavailable

    settings = RegistrySettings()
    topic, registry = settings.topics.audit_checkpoints, settings.registry_group_id
    witness = Witness()
    if not args.chain_only:
        try:
            keys = _verify_keys(settings)
        except SigningKeyError as exc:
            _out(f"cannot check the witness: {exc}")
            return 2
        if not keys:
            _out(
                "no audit verification key pinned: set VIGIE_AUDIT_VERIFY_KEY (or "
                "VIGIE_AUDIT_VERIFY_KEY_FILE) to the registry's public key; --chain-only checks "
                "without the witness"
            )
            return 2
        try:
            witness = witnessed_heads(settings, keys, registry=registry)
        except TopicUnavailable as exc:
            _out(
                f"cannot read the witnessed heads on {topic}: {exc}. "
                "Without them the newest records could have been removed unnoticed; "
                "--chain-only checks the chain alone."
            )
            return 2
        except WitnessConflict as exc:
            _out(f"AUDIT CHAIN REWRITTEN: {exc}")
            return 1
        for line in witness.ignored[:20]:
            _out(f"ignored checkpoint on {topic}: {line}")
        if len(witness.ignored) > 20:
            _out(f"... and {len(witness.ignored) - 20} more ignored checkpoints")
        if witness.unreadable:
            _out(f"ignored {witness.unreadable} records on {topic} that are not checkpoints")
    with Session(_registry_engine()) as session:
        result = verify(session, witness.heads)
    if result.first_bad_seq is not None:
        _out(
            f"AUDIT CHAIN BROKEN at record {result.first_bad_seq}: {result.problem} "
            f"({result.records} records read)"
        )
        return 1
    for problem in result.state_problems:
        _out(f"AUDIT STATE BROKEN: {problem}")
    if result.state_problems:
        return 1
    if not args.chain_only and result.records and not witness.heads:
        _out(
            f"NO WITNESS: the chain has {result.records} records but {topic} holds no "
            f"checkpoint of registry {registry} signed by a pinned key (the topic was deleted "
            "or emptied, or the registry has not published yet)"
        )
        return 1
    _out(f"audit chain intact: {result.records} records, head {result.head}")
    _out("cases, reports, MIR filings and API tokens match the states the chain recorded")
    if result.unbound:
        _out(f"{result.unbound} cases predate state binding: checked by the chain alone")
    if args.chain_only:
        _out("chain only: the witness was not read (a chain rewritten end to end would pass)")
    elif witness.heads:
        _out(
            f"matches the {result.witnessed} signed heads witnessed on {topic} "
            f"(newest: record {max(witness.heads)})"
        )
    else:
        _out(f"no head witnessed on {topic} yet")
    return 0


def schemas(args: argparse.Namespace) -> int:
    """Regenerate (or check) schemas/."""
    from vigie_tools.schemagen import SCHEMAS_DIR, differences, write_all

    if args.check:
        diff = differences(SCHEMAS_DIR)
        for line in diff:
            sys.stderr.write(line + "\n")
        return 1 if diff else 0
    for path in write_all(SCHEMAS_DIR):
        _out(str(path))
    return 0
