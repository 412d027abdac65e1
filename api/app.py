"""The FastAPI application: SDMX REST 1.5 under /sdmx/v1, SDMX REST 2.x under /sdmx/v2, /health, /docs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import availability, data, structures, uploads_routes
from api.context import ServiceContext
from api.errors import SdmxError, error_response
from exchange import __version__
from exchange.config import Settings, load_settings
from exchange.db import get_engine

log = logging.getLogger("voices.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for the given settings (default: from the environment)."""
    settings = settings or load_settings()
    jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-job")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown(wait=True)

    app = FastAPI(
        lifespan=lifespan,
        title="Voices Exchange",
        version=__version__,
        description="SDMX exchange for citizen-generated SDG data from the Leave No One Behind partnership.",
    )
    app.state.service = ServiceContext(settings, get_engine(settings.db_url))
    app.state.jobs = jobs

    @app.exception_handler(SdmxError)
    async def sdmx_error(request: Request, exc: SdmxError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/sdmx/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        message = "Unknown SDMX REST path" if exc.status_code == 404 else str(exc.detail)
        status = 400 if exc.status_code == 404 else exc.status_code
        return error_response(request, SdmxError(status, message))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_response(request, SdmxError(400, f"Invalid request: {problems}"))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        log.exception("Unhandled error on %s", request.url.path)
        return error_response(request, SdmxError(500, "Internal server error; the problem has been logged."))

    @app.get("/health", tags=["service"])
    def health() -> dict[str, object]:
        """Liveness and readiness: the database answers and the registry is loaded."""
        registry = app.state.service.registry()
        return {"status": "ok", "version": __version__, "artefacts": len(registry.all())}

    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    app.include_router(uploads_routes.router)
    app.include_router(data.router)
    app.include_router(availability.router)
    app.include_router(structures.router)
    return app
