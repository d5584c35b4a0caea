from fastapi import APIRouter

from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.core.schemas import PathId
from crm_backend.customers import service as customers
from crm_backend.gdpr import service

router = APIRouter(prefix="/customers", tags=["gdpr"],
                   dependencies=[require(Permission.gdpr)])


@router.get("/{customer_id}/gdpr-export")
def gdpr_export(customer_id: PathId, session: SessionDep) -> dict:
    """Everything stored about the customer, as JSON (the request is audited)."""
    data = service.export(session=session,
                          customer=customers.get(session=session, customer_id=customer_id))
    session.commit()
    return data


@router.post("/{customer_id}/erase")
def gdpr_erase(customer_id: PathId, session: SessionDep) -> dict:
    """Anonymise the customer's personal data; orders, tickets and campaign results are kept
    without it. Irreversible; a second call is 409."""
    summary = service.erase(session=session,
                            customer=customers.get(session=session, customer_id=customer_id))
    session.commit()
    return summary
