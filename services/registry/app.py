"""Registry service: owns the database, consumes triaged reports, serves the registry API."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlmodel import Session, text

from services.registry.audit.witness import queue_checkpoint
from services.registry.auth import views as auth_views
from services.registry.cases import views as case_views
from services.registry.consumer import register_consumer
from services.registry.dashboard import views as dashboard_views
from services.registry.db import init_db, make_engine
from services.registry.devices import views as device_views
from services.registry.devices.service import seed as seed_devices
from services.registry.errors import NotFound, install_error_handlers
from services.registry.exports import views as export_views
from services.registry.outbox import OutboxRelay
from services.registry.reports import views as report_views
from services.registry.reports.service import status_for_token
from services.registry.settings import RegistrySettings
from services.registry.signals import views as signal_views
from services.registry.signals.service import scan as scan_signals
from services.registry.subscriptions import views as subscription_views
from vigie import logs
from vigie.kafka import make_broker

log = logging.getLogger(__name__)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def create_app(settings: RegistrySettings, *, consume: bool = True) -> FastAPI:
    """The registry ASGI application; ``consume=False`` serves the API without Kafka."""
    engine = make_engine(settings.database_url)
    init_db(engine)
    with Session(engine) as session:
        seed_devices(session)
    broker = make_broker(settings, client_id="vigie-registry")
    relay = OutboxRelay(
        engine,
        broker,
        batch=settings.outbox_batch,
        poll_s=settings.outbox_poll_s,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        known_topics={
            settings.topics.alerts,
            settings.topics.triage_feedback,
            settings.topics.audit_checkpoints,
        },
    )
    if consume:
        register_consumer(broker, settings, engine, on_commit=relay.notify)

    def scan_once() -> int:
        with Session(engine) as session:
            raised = scan_signals(
                session, alerts_topic=settings.topics.alerts, country=settings.registry_country
            )
        if raised:
            log.info("statistical signals raised", extra={"alerts": raised})
        return raised

    def checkpoint_once() -> int:
        with Session(engine) as session:
            checkpoint = queue_checkpoint(
                session,
                topic=settings.topics.audit_checkpoints,
                registry=settings.registry_group_id,
            )
        return 0 if checkpoint is None else 1

    async def every(period_s: float, work: Callable[[], int], what: str) -> None:
        """Run ``work`` every ``period_s`` seconds; wake the relay when it queued events."""
        while True:
            await asyncio.sleep(period_s)
            try:
                queued = await asyncio.to_thread(work)
            except Exception:  # retried at the next period; logged loudly
                log.exception("%s failed", what)
                continue
            if queued:
                relay.notify()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        if consume:
            await broker.start()
            tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
            tasks.append(
                asyncio.create_task(
                    every(settings.signals_scan_s, scan_once, "statistical signal scan"),
                    name="signal-scan",
                )
            )
            tasks.append(
                asyncio.create_task(
                    every(settings.audit_checkpoint_s, checkpoint_once, "audit checkpoint"),
                    name="audit-checkpoint",
                )
            )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if consume:
                await broker.stop()
            engine.dispose()

    app = FastAPI(
        title="Vigie registry",
        version="1.0.0",
        summary="Vigilance cases of AI used in health care, for regulators and manufacturers.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.relay = relay
    install_error_handlers(app)
    app.include_router(report_views.router)
    app.include_router(case_views.router)
    app.include_router(export_views.router)
    app.include_router(device_views.router)
    app.include_router(subscription_views.router)
    app.include_router(auth_views.router)
    app.include_router(dashboard_views.router)
    app.include_router(signal_views.router)

    @app.get("/status/{token}", response_class=HTMLResponse, tags=["reporters"])
    def status_page(token: str, request: Request, lang: str = "fr") -> HTMLResponse:
        """Human page of a reporter's status link."""
        language = lang if lang in ("fr", "en") else "fr"
        with Session(engine) as session:
            try:
                found = status_for_token(session, hashlib.sha256(token.encode()).hexdigest())
            except NotFound:
                found = None
        return templates.TemplateResponse(
            request,
            "status.html",
            {"status": found, "lang": language, "token": token},
            status_code=200 if found else 404,
        )

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "Not ready"}})
    async def readyz() -> JSONResponse:
        """Database and Kafka answer."""

        def db_ok() -> bool:
            try:
                with Session(engine) as session:
                    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
                return True
            except Exception:  # noqa: BLE001 - an unreachable database is an answer here
                return False

        database = await asyncio.to_thread(db_ok)
        kafka = (await broker.ping(timeout=2.0)) if consume else True
        ok = database and kafka
        return JSONResponse(
            status_code=200 if ok else 503, content={"database": database, "kafka": kafka}
        )

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def prometheus_metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def main() -> None:
    """Entry point of ``vigie serve registry``."""
    settings = RegistrySettings()
    logs.configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.registry_host,
        port=settings.registry_port,
        log_config=None,
    )
