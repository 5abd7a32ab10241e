"""Run triage and registry in-process against the real broker for integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from services.registry.app import create_app as create_registry
from services.registry.reports.models import Report
from services.registry.settings import RegistrySettings
from services.triage.app import build_broker
from services.triage.reports.service import Classifier
from services.triage.settings import TriageSettings


@dataclass
class Pipeline:
    """Running triage and registry."""

    registry: FastAPI

    @property
    def engine(self) -> Engine:
        engine: Engine = self.registry.state.engine
        return engine

    def count_reports(self) -> int:
        with Session(self.engine) as session:
            return int(session.exec(select(func.count()).select_from(Report)).one())

    async def wait_for(self, check: Callable[[], bool], timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not await asyncio.to_thread(check):
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.2)


@asynccontextmanager
async def running_pipeline(
    *,
    bootstrap: str,
    namespace: str,
    database_url: str,
    classifier: Classifier | None = None,
) -> AsyncIterator[Pipeline]:
    """Triage (with ``classifier``) and registry consuming the namespace's topics."""
    common: dict[str, Any] = {"kafka_bootstrap_servers": bootstrap, "topic_namespace": namespace}
    triage = build_broker(
        TriageSettings(
            **common,
            triage_group_id=f"{namespace}-triage",
            drift_group_id=f"{namespace}-drift",
        ),
        classifier,
    )
    registry = create_registry(
        RegistrySettings(
            **common,
            database_url=database_url,
            registry_group_id=f"{namespace}-registry",
            outbox_poll_s=0.2,
        )
    )
    await triage.start()
    try:
        async with registry.router.lifespan_context(registry):
            yield Pipeline(registry=registry)
    finally:
        await triage.stop()
