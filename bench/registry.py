"""Registry query speed with a million reports in PostgreSQL: p50/p99 of list and filter calls.

Starts the project's PostgreSQL, bulk-loads N synthetic reports with their cases (COPY), serves
the registry API on loopback, and times API calls with a regulator token. The baseline in the
same run is OFFSET pagination at the same depth as the keyset cursor walk, and a bare
`SELECT 1` round trip (the floor of any call).
"""

from __future__ import annotations

import argparse
import io
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
from sqlalchemy import text
from sqlmodel import Session

from bench.common import finish, machine, percentile, say
from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.db import upgrade_url
from services.registry.settings import RegistrySettings
from tests.support.servers import serving
from vigie_tools import localpg

SEVERITIES = ["DEATH", "SERIOUS", "MALFUNCTION", "OTHER"]
SEVERITY_WEIGHTS = [0.03, 0.22, 0.6, 0.15]
OUTCOMES = {
    "DEATH": "DEATH",
    "SERIOUS": "SERIOUS_DETERIORATION",
    "MALFUNCTION": "NO_HARM",
    "OTHER": "UNKNOWN",
}
COUNTRIES = ["FR", "DE", "IT", "ES", "BE", "NL"]


def fresh_database(name: str) -> str:
    spec = localpg.PgSpec()
    admin = f"host={spec.host} port={spec.port} user=vigie dbname=vigie"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return localpg.PgSpec().url.rsplit("/", 1)[0] + f"/{name}"


def load(url: str, n: int, seed: int = 11) -> None:
    """COPY ``n`` reports, their cases and links into an empty registry schema."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = (datetime(2026, 11, 1, tzinfo=UTC) - start).total_seconds()
    makers = [f"Maker {i}" for i in range(60)]
    reports, cases, links = io.StringIO(), io.StringIO(), io.StringIO()
    for i in range(n):
        rid, cid = uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128))
        severity = rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0]
        maker = rng.choice(makers)
        device = f"{maker} device {rng.randrange(8)}"
        submitted = start + timedelta(seconds=rng.random() * span)
        aware = submitted.date() - timedelta(days=rng.randrange(5))
        serious = severity in ("DEATH", "SERIOUS")
        deadline = (aware + timedelta(days=10)).isoformat() if serious else r"\N"
        country = rng.choice(COUNTRIES)
        reports.write(
            "\t".join(
                [
                    str(rid),
                    f"VG-{i:04X}"[-9:],
                    "ADVERSE_EVENT",
                    "PHYSICIAN",
                    country,
                    r"\N",
                    device,
                    maker,
                    maker.casefold(),
                    r"\N",
                    "1.0",
                    "t",
                    r"\N",
                    aware.isoformat(),
                    OUTCOMES[severity],
                    severity,
                    "f",
                    "",
                    r"\N",
                    r"\N",
                    r"\N",
                    "t" if serious else "f",
                    deadline,
                    "Synthetic narrative of an AI-related incident for the benchmark.",
                    submitted.isoformat(),
                    submitted.isoformat(),
                    r"\N",
                    r"\N",
                    r"\N",
                    "{}",
                ]
            )
            + "\n"
        )
        status = rng.choice(["TRIAGED", "UNDER_ASSESSMENT", "CLOSED", "CLOSED", "CLOSED"])
        cases.write(
            "\t".join(
                [
                    str(cid),
                    status,
                    r"\N",
                    severity,
                    "t" if serious else "f",
                    "f",
                    deadline,
                    device,
                    maker,
                    maker.casefold(),
                    country,
                    r"\N",
                    r"\N",
                    submitted.isoformat(),
                    submitted.isoformat(),
                ]
            )
            + "\n"
        )
        links.write(f"{cid}\t{rid}\tPRIMARY\t{submitted.isoformat()}\n")
    report_cols = (
        "report_id, tracking_number, kind, reporter_role, country, establishment, "
        "device_name, manufacturer, manufacturer_key, udi_di, model_version, "
        "is_medical_device, event_date, awareness_date, outcome, severity, "
        "needs_review, review_reasons, category, confidence, triage_model_version, "
        "serious_incident, deadline, narrative, submitted_at, recorded_at, "
        "patient_pseudonym, reporter_ref, status_token_hash, payload"
    )
    case_cols = (
        "case_id, status, status_reason, severity, serious_incident, needs_review, "
        "deadline, device_name, manufacturer, manufacturer_key, country, category, "
        "merged_into, opened_at, updated_at"
    )
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for table, cols, buffer in (
            ("report", report_cols, reports),
            ('"case"', case_cols, cases),
            ("case_report", "case_id, report_id, role, linked_at", links),
        ):
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        cur.execute("ANALYZE")
        conn.commit()


def timed(
    client: httpx.Client,
    path: str,
    params: dict[str, str | int],
    headers: dict[str, str],
    repeats: int,
) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path, params=params, headers=headers)
        out.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    say(f"machine: {machine()}")
    localpg.start()
    url = fresh_database("bench_registry")
    upgrade_url(url)
    app = create_app(RegistrySettings(database_url=url), consume=False)
    started = time.perf_counter()
    load(url, args.reports)
    seconds = time.perf_counter() - started
    say(f"loaded {args.reports:,} reports, cases and links in {seconds:.0f} s")
    with Session(app.state.engine) as session:
        token = create_token(session, role=Role.REGULATOR)
        maker_token = create_token(session, role=Role.MANUFACTURER, manufacturer="Maker 7")
    h = {"Authorization": f"Bearer {token}"}
    hm = {"Authorization": f"Bearer {maker_token}"}
    results: dict[str, dict[str, float]] = {}
    with serving(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        some_id = client.get("/api/v1/reports", params={"limit": 1}, headers=h).json()["items"][0][
            "report_id"
        ]

        def record(name: str, samples: list[float]) -> None:
            results[name] = {
                "p50_ms": round(percentile(samples, 50), 2),
                "p99_ms": round(percentile(samples, 99), 2),
            }
            say(
                f"{name:<42} p50 {results[name]['p50_ms']:>8.2f} ms   "
                f"p99 {results[name]['p99_ms']:>8.2f} ms"
            )

        queries: list[tuple[str, str, dict[str, str | int], dict[str, str]]] = [
            ("list newest 50", "/api/v1/reports", {"limit": 50}, h),
            ("filter severity=death", "/api/v1/reports", {"severity": "death", "limit": 50}, h),
            ("filter manufacturer", "/api/v1/reports", {"manufacturer": "Maker 3", "limit": 50}, h),
            (
                "filter country+severity",
                "/api/v1/reports",
                {"country": "FR", "severity": "serious", "limit": 50},
                h,
            ),
            (
                "filter date range",
                "/api/v1/reports",
                {"submitted_from": "2025-03-01", "submitted_to": "2025-03-07", "limit": 50},
                h,
            ),
            ("manufacturer token, own reports", "/api/v1/reports", {"limit": 50}, hm),
            ("get one report", f"/api/v1/reports/{some_id}", {}, h),
            (
                "case queue (open, overdue first)",
                "/api/v1/cases",
                {"open_only": "true", "limit": 50},
                h,
            ),
        ]
        for name, path, params, headers in queries:
            timed(client, path, params, headers, 5)  # warm caches
            record(name, timed(client, path, params, headers, args.repeats))

        # Deep pagination: keyset cursor walk versus OFFSET at the same depth (the baseline).
        depth_pages = 100
        cursor = None
        for _ in range(depth_pages):
            page: dict[str, str | int] = {"limit": 50}
            if cursor:
                page["cursor"] = cursor
            cursor = client.get("/api/v1/reports", params=page, headers=h).json()["next_cursor"]
        assert cursor is not None
        record(
            f"keyset page at depth {depth_pages * 50:,}",
            timed(client, "/api/v1/reports", {"limit": 50, "cursor": cursor}, h, args.repeats),
        )

        engine = app.state.engine

        def sql_ms(statement: str) -> Callable[[], float]:
            def run() -> float:
                with engine.connect() as conn:
                    started = time.perf_counter()
                    conn.execute(text(statement)).fetchall()
                    return (time.perf_counter() - started) * 1000

            return run

        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT submitted_at, report_id FROM report ORDER BY submitted_at DESC, "
                    f"report_id DESC LIMIT 1 OFFSET {args.reports // 2}"
                )
            ).one()
        keyset_sql = sql_ms(
            "SELECT * FROM report WHERE (submitted_at, report_id) < "
            f"('{row[0].isoformat()}', '{row[1]}') ORDER BY submitted_at DESC, report_id DESC "
            "LIMIT 50"
        )
        record(
            f"keyset page at depth {args.reports // 2:,} (SQL)",
            [keyset_sql() for _ in range(args.repeats)],
        )
        offset_sql = sql_ms(
            "SELECT * FROM report ORDER BY submitted_at DESC, report_id DESC "
            f"LIMIT 50 OFFSET {depth_pages * 50}"
        )
        record(
            f"baseline: OFFSET page at depth {depth_pages * 50:,} (SQL)",
            [offset_sql() for _ in range(args.repeats)],
        )
        deep_offset = sql_ms(
            "SELECT * FROM report ORDER BY submitted_at DESC, report_id DESC "
            f"LIMIT 50 OFFSET {args.reports // 2}"
        )
        record(
            f"baseline: OFFSET page at depth {args.reports // 2:,} (SQL)",
            [deep_offset() for _ in range(max(5, args.repeats // 20))],
        )
        floor = sql_ms("SELECT 1")
        record("floor: SELECT 1 round trip (SQL)", [floor() for _ in range(args.repeats)])

    finish(
        {
            "benchmark": "registry",
            "machine": machine(),
            "reports": args.reports,
            "repeats": args.repeats,
            "database": "postgresql",
            "results": results,
            "date": date.today().isoformat(),
        }
    )


if __name__ == "__main__":
    main()
