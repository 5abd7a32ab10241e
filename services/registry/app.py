"""Registry service: owns the database, consumes triaged reports, serves the registry API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session, text

from services.common import ops
from services.common.edges import (
    BodyLimit,
    SecurityHeaders,
    docs_enabled,
    install_field_errors,
    serve_metrics,
)
from services.registry import jobs
from services.registry.audit.witness import load_signer, require_signer
from services.registry.auth import views as auth_views
from services.registry.cases import views as case_views
from services.registry.dashboard import views as dashboard_views
from services.registry.db import NotAtHead, make_engine, require_head
from services.registry.devices import views as device_views
from services.registry.devices.service import seed as seed_devices
from services.registry.errors import install_error_handlers
from services.registry.exports import views as export_views
from services.registry.followups import handlers as followup_handlers
from services.registry.followups import views as followup_views
from services.registry.reports import handlers as report_handlers
from services.registry.reports import views as report_views
from services.registry.settings import RegistrySettings
from services.registry.signals import handlers as signal_handlers
from services.registry.signals import views as signal_views
from services.registry.status import views as status_views
from services.registry.subscriptions import views as subscription_views
from vigie import logs
from vigie.kafka import make_broker, require_credentials

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(settings: RegistrySettings, *, consume: bool = True) -> FastAPI:
    """The registry ASGI application; ``consume=False`` serves the API without Kafka."""
    engine = make_engine(settings.database_url)
    # Migrations run before the registry (`vigie db upgrade`), never from it.
    require_head(engine)
    with Session(engine) as session:
        seed_devices(session)
    # Without Kafka (consume=False: the API alone, e.g. to generate its OpenAPI document) there
    # is no broker, and no Kafka credentials are needed.
    broker = make_broker(settings, client_id="vigie-registry") if consume else None
    relay = jobs.outbox_relay(engine, broker, settings) if broker is not None else None
    # Checkpoints are signed: without its audit key a production registry does not start.
    signer = load_signer(settings) if broker is not None else None
    if broker is not None and relay is not None:
        # Offsets are committed only after the database commit (see vigie.processing).
        broker.include_router(report_handlers.router(settings, engine, on_commit=relay.notify))
        broker.include_router(signal_handlers.router(settings, engine, on_commit=relay.notify))
        broker.include_router(followup_handlers.router(settings, engine, on_commit=relay.notify))

    tasks: list[asyncio.Task[None]] = []

    async def consume_when_kafka_answers() -> None:
        """Start the consumers and the background jobs once the brokers answer, retrying with a
        doubling pause: the registry's API serves from the database meanwhile."""
        assert broker is not None and relay is not None and signer is not None
        pause = 1.0
        while True:
            try:
                await broker.start()
                break
            except Exception as exc:  # noqa: BLE001 - unreachable, refused, timed out: retried
                log.warning("Kafka unreachable; the API serves, consuming waits: %s", exc)
                with contextlib.suppress(Exception):
                    await broker.stop()
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
        tasks.extend(jobs.start(engine, settings, relay, signer))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        connecting = None
        if broker is not None:
            connecting = asyncio.create_task(consume_when_kafka_answers(), name="kafka-connect")
        try:
            yield
        finally:
            if connecting is not None:
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connecting
            await jobs.stop(tasks)
            if broker is not None:
                await broker.stop()
            engine.dispose()

    def database_answers() -> bool:
        try:
            with Session(engine) as session:
                session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            return True
        except Exception:  # noqa: BLE001 - an unreachable database is an answer here
            return False

    async def ready() -> tuple[bool, dict[str, Any]]:
        # Ready means the API can answer, which needs the database only: with Kafka down the
        # registry keeps serving what it holds (new reports wait on their topics, and the
        # page says so) rather than dropping out of its load balancer.
        database = await asyncio.to_thread(database_answers)
        kafka = bool(tasks) and await broker.ping(timeout=2.0) if broker is not None else None
        return database, {"database": database, "kafka": kafka}

    app = FastAPI(
        title="Vigie registry",
        version="1.0.0",
        summary="Vigilance cases of AI used in health care, for regulators and manufacturers.",
        lifespan=lifespan,
        docs_url="/docs" if docs_enabled(settings.env) else None,
        redoc_url="/redoc" if docs_enabled(settings.env) else None,
    )
    app.add_middleware(BodyLimit, limit_for=lambda _path: settings.registry_max_body_bytes)
    app.add_middleware(SecurityHeaders)
    install_field_errors(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
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
    app.include_router(status_views.router)
    app.include_router(followup_views.router)
    app.include_router(
        ops.router(
            ready,
            ready_doc="The database answers (Kafka's state is shown, not required).",
            not_ready_doc="Not ready",
            service="registry",
        )
    )
    return app


def main() -> None:
    """Entry point of ``vigie serve registry``."""
    settings = RegistrySettings()
    logs.configure_logging(settings.log_level)
    require_credentials(settings, "registry")
    require_signer(settings)
    serve_metrics(settings.registry_metrics_host, settings.registry_metrics_port)
    try:
        app = create_app(settings)
    except NotAtHead as exc:
        raise SystemExit(f"vigie registry: {exc}") from None
    uvicorn.run(
        app,
        host=settings.registry_host,
        port=settings.registry_port,
        log_config=None,
    )
