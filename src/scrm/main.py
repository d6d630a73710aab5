"""The application factory: routers, error format, limits, health, metrics and the built console."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from scrm import __version__
from scrm.core.db import make_engine, make_session_factory
from scrm.core.errors import DomainError, TooManyRequests
from scrm.http_limits import BodySizeLimitMiddleware
from scrm.logging_setup import configure_logging
from scrm.settings import Settings, load_settings

log = logging.getLogger(__name__)

WEB_DIST = Path(__file__).parent / "web" / "dist"
PROBLEM_JSON = "application/problem+json"


def _json_safe_context(context: dict[str, Any] | None) -> dict[str, Any]:
    """The scalar entries of a pydantic error's `ctx` (limits, expected values); the rest (such as
    the exception a validator raised) is left out."""
    return {
        key: value
        for key, value in (context or {}).items()
        if isinstance(value, str | int | float | bool) or value is None
    }


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem document (`extensions`: extra members, e.g. a merged customer's survivor)."""
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    if extensions:
        body.update({key: value for key, value in extensions.items() if key not in body})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        log.info("%s %s -> %s: %s", request.method, request.url.path, exc.status, exc.detail)
        headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, TooManyRequests) else None
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.type_slug,
            errors=exc.field_errors,
            headers=headers,
            extensions=getattr(exc, "extensions", None),
        )

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0]),
                "message": error["msg"],
                # pydantic's error type and its limits, for the console to word the error in its
                # own language ("string_too_short", {"min_length": 1}).
                "code": error["type"],
                "context": _json_safe_context(error.get("ctx")),
            }
            for error in exc.errors()
        ]
        log.info("%s %s -> 422: %d field errors", request.method, request.url.path, len(errors))
        return problem(
            422,
            "Validation failed",
            "the request has invalid fields",
            slug="validation-failed",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        return problem(
            exc.status_code,
            detail,
            detail,
            slug=f"http-{exc.status_code}",
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500, "Internal error", "an unexpected error occurred; it has been logged", slug="internal"
        )


def _operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}_{route.name}"


def _install_operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        from scrm.migrate import current_revision, head_revision

        engine: Engine = app.state.engine
        checks: dict[str, Any] = {}
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current, head = current_revision(engine), head_revision()
            checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}"
        except Exception as exc:  # any failure means "not ready"; say which
            checks["database"] = f"unreachable: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values()) and len(checks) == 2
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        from scrm.core.metrics import render_metrics

        factory: sessionmaker[Session] = app.state.session_factory
        with factory() as session:
            body = render_metrics(session)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


def _install_console(app: FastAPI) -> None:
    """Serve the built console at `/` with SPA fallback; never serve files outside dist/."""
    dist = WEB_DIST.resolve()
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def console(path: str) -> Response:
        if path.startswith(("api/", "hooks/")):
            return problem(404, "Not found", f"/{path} does not exist", slug="not-found")
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(
                "<h1>SCRM</h1><p>The console is not built. Run <code>./dev demo</code> "
                "or <code>cd frontend && npm ci && npm run build</code>.</p>",
                status_code=503,
            )
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(dist):
            return FileResponse(candidate)
        return FileResponse(index)


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    run_embedded_worker: bool | None = None,
) -> FastAPI:
    """Build the application. `run_embedded_worker` defaults to `settings.embedded_worker`."""
    settings = settings or load_settings()
    configure_logging(settings)
    engine = session_factory.kw["bind"] if session_factory else make_engine(settings.database_url)
    session_factory = session_factory or make_session_factory(engine)
    start_worker = settings.embedded_worker if run_embedded_worker is None else run_embedded_worker

    from scrm.platforms.runtime import configure_platform_runtime
    from scrm.registry import build_registry

    registry = build_registry()
    configure_platform_runtime(settings, session_factory)
    from scrm.customers.phones import configure_phone_vault

    configure_phone_vault(settings.resolved_secret_key)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if start_worker:
            from scrm.core.worker import Worker
            from scrm.settings import worker_config

            worker = Worker(
                session_factory,
                registry,
                worker_config(settings),
                mode="embedded",
            )
            worker.start_thread()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="SCRM API",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.registry = registry
    from scrm.platforms.wecom.callbacks import CallbackShortcut

    # WeCom callbacks skip routing (see `CallbackShortcut`), inside the body-size limit: the
    # middleware added last runs first.
    app.add_middleware(CallbackShortcut)
    from scrm.tickets.api_extras import upload_body_limit

    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_body_bytes,
        path_limits=[upload_body_limit(settings)],
    )
    _install_error_handlers(app)
    _install_operational_routes(app)

    from scrm.channels.api import router as channels_router
    from scrm.commerce.api import router as commerce_router
    from scrm.customers.api import router as customers_router
    from scrm.customers.api import segments_router
    from scrm.forms.api import public_router as public_forms_router
    from scrm.forms.api import router as forms_router
    from scrm.identity.api import router as identity_router
    from scrm.platforms.api import router as platforms_router
    from scrm.platforms.shops.receiver import PUSH_ROUTES
    from scrm.platforms.sync_api import names_router as connection_names_router
    from scrm.platforms.sync_api import router as sync_router
    from scrm.platforms.wecom.callbacks import router as wecom_callbacks_router
    from scrm.platforms.wecom.login import router as wecom_login_router
    from scrm.staff.api import router as staff_router
    from scrm.system.api import router as system_router
    from scrm.system.jobs_api import router as jobs_router
    from scrm.tickets.api import router as tickets_router
    from scrm.tickets.api_extras import public_router as ticket_ratings_public_router
    from scrm.tickets.api_extras import router as ticket_extras_router
    from scrm.tickets.classify.api import router as ticket_classify_router
    from scrm.tickets.routing.api import router as ticket_routing_router

    # Platform callbacks first: routes match in order, and callbacks are the hottest path we serve.
    app.include_router(wecom_callbacks_router)
    app.router.routes.extend(PUSH_ROUTES)
    app.include_router(identity_router)
    app.include_router(system_router)
    app.include_router(jobs_router)
    app.include_router(platforms_router)
    app.include_router(staff_router)
    app.include_router(customers_router)
    app.include_router(segments_router)
    app.include_router(channels_router)
    app.include_router(commerce_router)
    app.include_router(forms_router)
    app.include_router(public_forms_router)
    app.include_router(ticket_routing_router)
    app.include_router(ticket_classify_router)
    app.include_router(tickets_router)
    app.include_router(ticket_extras_router)
    app.include_router(ticket_ratings_public_router)
    app.include_router(sync_router)
    app.include_router(connection_names_router)
    app.include_router(wecom_login_router)
    _install_console(app)
    return app
