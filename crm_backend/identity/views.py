from fastapi import APIRouter

from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.identity import service
from crm_backend.identity.schemas import (
    CustomerToken,
    CustomerTokenRequest,
    OrderVerification,
    TokenVerification,
    VerificationResult,
)

router = APIRouter(prefix="/identity", tags=["identity"])
LOCKED = {429: {"description": "Too many failed attempts for this conversation or email"}}


def _dump(body) -> dict | None:
    return body.conversation.model_dump() if body.conversation else None


@router.post("/verify-order", response_model=VerificationResult, responses=LOCKED,
             dependencies=[require(Permission.identity_verify)])
def verify_order(body: OrderVerification, session: SessionDep):
    """Verified when the order belongs to the customer with this email. A failure says no more
    than that, and counts towards the lock."""
    result = service.verify_order(session=session, email=body.email,
                                  order_number=body.order_number, conversation=_dump(body))
    session.commit()
    return result


@router.post("/verify-token", response_model=VerificationResult, responses=LOCKED,
             dependencies=[require(Permission.identity_verify)])
def verify_token(body: TokenVerification, session: SessionDep):
    """Verified when the token was signed by this CRM for a customer and has not expired."""
    result = service.verify_token(session=session, token=body.token, conversation=_dump(body))
    session.commit()
    return result


@router.post("/customer-tokens", response_model=CustomerToken, status_code=201,
             dependencies=[require(Permission.identity_issue)])
def issue_customer_token(body: CustomerTokenRequest, session: SessionDep):
    """A token the shop's page hands to the web chat for its logged-in customer."""
    return service.issue_token(session=session, customer_id=body.customer_id,
                               minutes=body.minutes)
