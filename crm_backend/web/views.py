"""Pages served to people rather than API clients."""

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from crm_backend.auth.deps import SessionDep
from crm_backend.core.config import get_settings
from crm_backend.orders import service as orders
from crm_backend.orders.schemas import InvoiceOut

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/invoices/{token}", response_class=HTMLResponse)
def invoice_page(token: str, request: Request, session: SessionDep):
    """The printable invoice behind a signed link; the signature is the authorisation."""
    order = orders.order_for_invoice_link(session=session, token=token)
    invoice = InvoiceOut.model_validate(orders.invoice(session=session, order=order))
    return templates.TemplateResponse(request, "invoice.html", {"invoice": invoice})


def _chat_config() -> dict:
    """What the chat page needs to reach Rasa's socket.io channel (see bot/credentials.yml)."""
    url = urlsplit(get_settings().rasa_browser_url)
    return {"rasaOrigin": f"{url.scheme}://{url.netloc}",
            "socketPath": url.path.rstrip("/") + "/socket.io",
            "userEvent": "user_uttered", "botEvent": "bot_uttered",
            "metadataKey": "customData"}


@router.get("/chat", response_class=HTMLResponse)
def chat_page(request: Request):
    """The customer's web chat. With `?token=` (a customer token the CRM signed, see
    /chat/demo) every message carries it, so the assistant can verify the customer."""
    return templates.TemplateResponse(request, "chat.html", {"config": _chat_config()})


@router.get("/chat/demo", response_class=HTMLResponse)
def chat_demo_page(request: Request):
    """How a shop page embeds the chat for its logged-in customer."""
    return templates.TemplateResponse(request, "chat_demo.html",
                                      {"public_url": get_settings().public_url.rstrip("/")})


@router.get("/console", response_class=HTMLResponse)
def console_page(request: Request):
    """The agent console; it signs in and talks to the API from the browser."""
    return templates.TemplateResponse(request, "console.html", {})
