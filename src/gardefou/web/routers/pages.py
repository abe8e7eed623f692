"""HTML pages: the takedown portal (public, English and French) and the review console."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

router = APIRouter(include_in_schema=False)

_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _page(name: str) -> HTMLResponse:
    html = (resources.files("gardefou.web") / "templates" / name).read_text(encoding="utf-8")
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": _CSP,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/portal")


@router.get("/portal")
def portal() -> HTMLResponse:
    return _page("portal.html")


@router.get("/console")
def console() -> HTMLResponse:
    return _page("console.html")


@router.get("/pdq-check")
def pdq_check() -> HTMLResponse:
    """A page that hashes chosen files locally and prints hex + quality (used by the tests)."""
    return _page("pdq-check.html")
