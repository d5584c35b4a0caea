"""The CRM's FastAPI application."""

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import crm_backend.audit.service  # noqa: F401  (installs the audit hook)
from crm_backend.audit.views import router as audit_router
from crm_backend.auth.views import keys_router, users_router
from crm_backend.auth.views import router as auth_router
from crm_backend.campaigns.views import offers_router
from crm_backend.campaigns.views import router as campaigns_router
from crm_backend.console.views import router as console_router
from crm_backend.console.views import ticket_router as console_ticket_router
from crm_backend.conversations.views import router as conversations_router
from crm_backend.core.config import get_settings
from crm_backend.core.db import get_engine
from crm_backend.core.errors import (
    ERROR_RESPONSES,
    ErrorBody,
    error_body,
    install_error_handlers,
)
from crm_backend.core.limits import BodySizeLimit
from crm_backend.customers.views import router as customers_router
from crm_backend.gdpr.views import router as gdpr_router
from crm_backend.identity.views import router as identity_router
from crm_backend.orders.views import router as orders_router
from crm_backend.products.views import router as products_router
from crm_backend.reports.views import router as reports_router
from crm_backend.scoring import jobs as scoring_jobs
from crm_backend.scoring.views import products_router as recommendations_router
from crm_backend.scoring.views import router as scoring_router
from crm_backend.tickets.views import router as tickets_router
from crm_backend.transfer.views import router as transfer_router
from crm_backend.web.views import STATIC_DIR
from crm_backend.web.views import router as web_router

API_PREFIX = "/api/v1"


def create_app() -> FastAPI:
    settings = get_settings()  # fails fast on a default secret in production
    app = FastAPI(
        title="Support CRM",
        version="0.1.0",
        description="Customers, orders, tickets, campaigns and reports for the support "
                    "assistant and its staff. Authenticate with a bearer token from "
                    "`POST /api/v1/auth/token` or a service `X-API-Key`.",
        lifespan=scoring_jobs.lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, default=settings.max_body_bytes,
                       large=settings.max_import_bytes, large_prefixes=(f"{API_PREFIX}/import",))
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["*"], allow_headers=["*"],
                           expose_headers=["ETag"])

    api = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
    for router in (auth_router, users_router, keys_router, customers_router, gdpr_router,
                   products_router, orders_router, console_ticket_router, tickets_router,
                   console_router, conversations_router,
                   campaigns_router, offers_router, reports_router, transfer_router, audit_router,
                   identity_router, scoring_router, recommendations_router):
        api.include_router(router)
    app.include_router(api)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/health", tags=["health"], summary="Liveness and database check (no auth)",
             responses={503: {"model": ErrorBody, "description": "Database unreachable"}})
    def health():
        engine = get_engine()
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return JSONResponse(error_body("database_unavailable", "The database is not reachable.",
                                           {"database": engine.dialect.name}), 503)
        return {"status": "ok", "database": engine.dialect.name}

    return app


app = create_app()
