"""Health and metrics (O1): for a load balancer's check and for Prometheus.

`/api/v1/health` answers 200 while the process serves (no login: it tells nothing but
that). `/api/v1/metrics` gives the running switch's figures in the Prometheus text
format, to provider admins only (a token with `read` for the scraper): they cover every
company.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from vaxel.web.auth import Caller, Context, provider_only

router = APIRouter(prefix="/api/v1", tags=["health"])

HELP = {
    "vaxel_calls_active": ("gauge", "calls in progress"),
    "vaxel_devices_registered": ("gauge", "device registrations held by the registrar"),
    "vaxel_calls_shed_total": ("counter", "new calls turned away with 503 when overloaded"),
    "vaxel_overloaded": ("gauge", "1 while new calls are turned away"),
}


class Health(BaseModel):
    status: str


@router.get("/health")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(who: Caller, ctx: Context) -> PlainTextResponse:
    provider_only(who)
    lines = []
    for name, value in sorted(ctx.stats().items()):
        kind, text = HELP.get(name, ("gauge", name))
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {value:g}"]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
