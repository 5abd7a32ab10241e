"""The ``vigie`` command: run the platform, its broker and its tools."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

log = logging.getLogger(__name__)

# Sub-commands contributed by other modules of the tools, each with an ``add_cli(subparsers)``.
_PLUGINS = ("localkafka", "model_cli", "drift_cli", "dlq", "privacy_cli", "opsdocs")


def _plugins() -> list[ModuleType]:
    """The plugin modules whose services' code this installation holds: a service's image
    carries its own service's run-time code only (deploy/images), so the commands built on
    another's, or on training and evaluation code, are left out there."""
    found = []
    for name in _PLUGINS:
        try:
            found.append(importlib.import_module(f"vigie_tools.{name}"))
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("services."):
                raise
    return found


def _add_own_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from vigie_tools import commands

    serve = sub.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=["ingest", "triage", "registry"])
    serve.set_defaults(func=commands.serve)

    topics = sub.add_parser("topics", help="create the platform's topics and dead-letter topics")
    topics.set_defaults(func=commands.create_topics)

    run = sub.add_parser("run", help="start Kafka and the three services; Ctrl-C stops all")
    run.add_argument("--no-kafka", action="store_true", help="use an already running Kafka")
    run.set_defaults(func=commands.run_platform)

    alerts = sub.add_parser("alerts", help="tail the regulator alert topic (kafka-python)")
    alerts.add_argument("--from-beginning", action="store_true")
    alerts.add_argument("--group", default=None, help="consumer group (default: none, no commit)")
    alerts.add_argument("--max", type=int, default=None, help="stop after this many alerts")
    alerts.add_argument(
        "--timeout", type=float, default=None, help="stop after this many seconds without an alert"
    )
    alerts.set_defaults(func=commands.tail_alerts)

    token = sub.add_parser("token", help="API tokens of the registry")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="issue a token and print it once")
    create.add_argument(
        "--role",
        required=True,
        choices=["clinician", "device", "manufacturer", "regulator", "admin"],
    )
    create.add_argument("--manufacturer", default=None)
    create.add_argument("--label", default=None)
    create.add_argument(
        "--expires-in-days",
        type=_days,
        default=90,
        help="how long the token is valid (default: 90 days)",
    )
    create.set_defaults(func=commands.create_token)
    listing = token_sub.add_parser("list", help="every token, without secrets")
    listing.set_defaults(func=commands.list_tokens)
    revoke = token_sub.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("token_id", help="the token's id, as `vigie token list` shows it")
    revoke.add_argument("--reason", default=None, help="recorded in the audit trail")
    revoke.set_defaults(func=commands.revoke_token)

    audit = sub.add_parser("audit", help="the registry's audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify", help="check the audit chain, its signed witness and the rows it vouches for"
    )
    verify.add_argument(
        "--chain-only",
        action="store_true",
        help="check the hash chain alone, without the heads witnessed on Kafka",
    )
    verify.set_defaults(func=commands.verify_audit)
    keygen = audit_sub.add_parser(
        "keygen", help="make an Ed25519 audit signing key; prints the public key to pin"
    )
    keygen.add_argument("--out", required=True, help="file for the private key (mode 0600)")
    keygen.set_defaults(func=commands.audit_keygen)

    database = sub.add_parser("db", help="the registry database's migrations")
    database_sub = database.add_subparsers(dest="db_command", required=True)
    upgrade = database_sub.add_parser(
        "upgrade", help="migrate VIGIE_DATABASE_URL to the latest revision (before the registry)"
    )
    upgrade.set_defaults(func=commands.db_upgrade)
    current = database_sub.add_parser(
        "current", help="the database's revision and the latest; exit 1 when behind"
    )
    current.set_defaults(func=commands.db_current)

    schemas = sub.add_parser("schemas", help="regenerate schemas/ from the code")
    schemas.add_argument("--check", action="store_true", help="fail if schemas/ is out of date")
    schemas.set_defaults(func=commands.schemas)


def _days(text: str) -> int:
    days = int(text)
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError("between 1 and 3650 days")
    return days


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="vigie", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_own_commands(sub)
    for module in _plugins():
        module.add_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``vigie``; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("kafka", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    if args.command != "serve":
        from vigie_tools import commands, localkafka

        commands.operator_defaults(localkafka.ClusterSpec().home)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
