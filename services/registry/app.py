"""Registry service: owns the database, consumes triaged reports, serves the registry API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlmodel import Session, text

from services.common import ops
from services.registry import jobs
from services.registry.auth import views as auth_views
from services.registry.cases import views as case_views
from services.registry.dashboard import views as dashboard_views
from services.registry.db import init_db, make_engine
from services.registry.devices import views as device_views
from services.registry.devices.service import seed as seed_devices
from services.registry.errors import install_error_handlers
from services.registry.exports import views as export_views
from services.registry.reports import handlers as report_handlers
from services.registry.reports import views as report_views
from services.registry.settings import RegistrySettings
from services.registry.signals import handlers as signal_handlers
from services.registry.signals import views as signal_views
from services.registry.status import views as status_views
from services.registry.subscriptions import views as subscription_views
from vigie import logs
from vigie.kafka import make_broker, require_credentials


def create_app(settings: RegistrySettings, *, consume: bool = True) -> FastAPI:
    """The registry ASGI application; ``consume=False`` serves the API without Kafka."""
    engine = make_engine(settings.database_url)
    init_db(engine)
    with Session(engine) as session:
        seed_devices(session)
    # Without Kafka (consume=False: the API alone, e.g. to generate its OpenAPI document) there
    # is no broker, and no Kafka credentials are needed.
    broker = make_broker(settings, client_id="vigie-registry") if consume else None
    relay = jobs.outbox_relay(engine, broker, settings) if broker is not None else None
    if broker is not None and relay is not None:
        # Offsets are committed only after the database commit (see vigie.processing).
        broker.include_router(report_handlers.router(settings, engine, on_commit=relay.notify))
        broker.include_router(signal_handlers.router(settings, engine, on_commit=relay.notify))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        if broker is not None and relay is not None:
            await broker.start()
            tasks = jobs.start(engine, settings, relay)
        try:
            yield
        finally:
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
        database = await asyncio.to_thread(database_answers)
        kafka = (await broker.ping(timeout=2.0)) if broker is not None else True
        return database and kafka, {"database": database, "kafka": kafka}

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
    app.include_router(status_views.router)
    app.include_router(
        ops.router(ready, ready_doc="Database and Kafka answer.", not_ready_doc="Not ready")
    )
    return app


def main() -> None:
    """Entry point of ``vigie serve registry``."""
    settings = RegistrySettings()
    logs.configure_logging(settings.log_level)
    require_credentials(settings, "registry")
    uvicorn.run(
        create_app(settings),
        host=settings.registry_host,
        port=settings.registry_port,
        log_config=None,
    )
