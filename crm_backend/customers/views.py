from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder

from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.core.concurrency import IfMatch, check_if_match, set_etag
from crm_backend.core.errors import Unprocessable
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.core.schemas import PathId
from crm_backend.customers import service
from crm_backend.customers.models import Customer
from crm_backend.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate, ScoreOut

router = APIRouter(prefix="/customers", tags=["customers"])
READ = require(Permission.customers_read)
WRITE = require(Permission.customers_write)

SORT_FIELDS = {"name": Customer.name, "email": Customer.email,
               "created_at": Customer.created_at, "updated_at": Customer.updated_at,
               **{name: service.score_value(name)
                  for name in ("churn_risk", "clv", "campaign_response", "campaign_uplift")}}


@router.get("", response_model=Page[CustomerOut], dependencies=[READ])
def list_customers(
    session: SessionDep,
    params: Pages(SORT_FIELDS, ["name"]),
    q: Annotated[str | None, Query(description="Search name, email, phone or order number",
                                   max_length=200)] = None,
    email: Annotated[str | None, Query(description="Exact email (case-insensitive)")] = None,
    tag: str | None = None,
    segment: Annotated[str | None, Query(description="RFM segment label")] = None,
    marketing_consent: bool | None = None,
    score: Annotated[str | None, Query(
        description="Only customers with this score, e.g. churn_risk; bounded by score_min "
                    "and score_max", pattern=r"^[A-Za-z0-9_]{1,50}$")] = None,
    score_min: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    score_max: Annotated[float | None, Query(allow_inf_nan=False)] = None,
):
    if not score and (score_min is not None or score_max is not None):
        raise Unprocessable("score_min and score_max need score=<name>, e.g. churn_risk")
    stmt = service.list_query(q=q, tag=tag, segment=segment, score=score,
                              score_min=score_min, score_max=score_max)
    return paginate(session, stmt, params, tiebreaker=Customer.id,
                    filters={Customer.marketing_consent: marketing_consent,
                             Customer.email: email and service.normalize_email(email)})


@router.post("", response_model=CustomerOut, status_code=201, dependencies=[WRITE])
def create_customer(body: CustomerCreate, session: SessionDep, response: Response):
    customer = service.create(session=session, data=jsonable_encoder(body))
    session.commit()
    set_etag(response, customer)
    return customer


@router.get("/{customer_id}", response_model=CustomerOut, dependencies=[READ])
def get_customer(customer_id: PathId, session: SessionDep, response: Response):
    customer = service.get(session=session, customer_id=customer_id)
    set_etag(response, customer)
    return customer


@router.patch("/{customer_id}", response_model=CustomerOut, dependencies=[WRITE])
def update_customer(customer_id: PathId, body: CustomerUpdate, session: SessionDep,
                    response: Response, if_match: IfMatch = None):
    customer = service.get(session=session, customer_id=customer_id)
    check_if_match(customer, if_match)
    changes = jsonable_encoder(body.model_dump(exclude_unset=True))
    service.update(session=session, customer=customer, changes=changes)
    session.commit()
    set_etag(response, customer)
    return customer


@router.get("/{customer_id}/scores", response_model=list[ScoreOut], dependencies=[READ])
def customer_scores(customer_id: PathId, session: SessionDep):
    service.get(session=session, customer_id=customer_id)
    return service.scores(session=session, customer_id=customer_id)
