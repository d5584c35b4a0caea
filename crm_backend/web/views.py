"""Pages served to people rather than API clients."""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from crm_backend.auth.deps import SessionDep
from crm_backend.orders import service as orders
from crm_backend.orders.schemas import InvoiceOut

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/invoices/{token}", response_class=HTMLResponse)
def invoice_page(token: str, request: Request, session: SessionDep):
    """The printable invoice behind a signed link; the signature is the authorisation."""
    order = orders.order_for_invoice_link(session=session, token=token)
    invoice = InvoiceOut.model_validate(orders.invoice(session=session, order=order))
    return templates.TemplateResponse(request, "invoice.html", {"invoice": invoice})
