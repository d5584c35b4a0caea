from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from crm_backend.auth.deps import CurrentPrincipal, SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.core.concurrency import IfMatch, check_if_match, set_etag
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.core.schemas import PathId, QueryId
from crm_backend.idempotency.service import IdempotencyKey, create_idempotently
from crm_backend.orders import service
from crm_backend.orders.models import Order, OrderStatus, SalesChannel
from crm_backend.orders.schemas import (
    InvoiceOut,
    OrderCreate,
    OrderOut,
    OrderUpdate,
    Transition,
)

router = APIRouter(prefix="/orders", tags=["orders"])
READ = require(Permission.orders_read)
WRITE = require(Permission.orders_write)


@router.get("", response_model=Page[OrderOut], dependencies=[READ])
def list_orders(
    session: SessionDep,
    params: Pages({"placed_at": Order.placed_at, "total": Order.total, "status": Order.status},
                  ["-placed_at"]),
    number: Annotated[str | None, Query(description="Order number, e.g. ORD-000123")] = None,
    customer_id: QueryId = None,
    status: Annotated[list[OrderStatus] | None, Query()] = None,
    channel: SalesChannel | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
):
    stmt = service.list_query(number=number)
    if placed_from:
        stmt = stmt.where(Order.placed_at >= placed_from)
    if placed_to:
        stmt = stmt.where(Order.placed_at < placed_to)
    return paginate(session, stmt, params, tiebreaker=Order.id,
                    filters={Order.customer_id: customer_id, Order.status: status,
                             Order.channel: channel})


@router.post("", response_model=OrderOut, status_code=201)
def create_order(body: OrderCreate, session: SessionDep, principal: CurrentPrincipal,
                 idempotency_key: IdempotencyKey = None, _=WRITE):
    return create_idempotently(
        session, principal=principal.ref, key=idempotency_key, path="/orders", payload=body,
        create=lambda: service.create(session=session, data=body.model_dump()),
        serialize=OrderOut.model_validate)


@router.get("/{order_id}", response_model=OrderOut, dependencies=[READ])
def get_order(order_id: PathId, session: SessionDep, response: Response):
    order = service.get(session=session, order_id=order_id)
    set_etag(response, order)
    return order


@router.patch("/{order_id}", response_model=OrderOut, dependencies=[WRITE])
def update_order(order_id: PathId, body: OrderUpdate, session: SessionDep, response: Response,
                 if_match: IfMatch = None):
    order = service.get(session=session, order_id=order_id)
    check_if_match(order, if_match)
    service.update(session=session, order=order, changes=body.model_dump(exclude_unset=True))
    session.commit()
    set_etag(response, order)
    return order


@router.post("/{order_id}/transitions", response_model=OrderOut, dependencies=[WRITE],
             responses={409: {"description": "Not allowed from the current status; the "
                              "error details list the allowed next statuses"}})
def transition_order(order_id: PathId, body: Transition, session: SessionDep, response: Response,
                     if_match: IfMatch = None):
    order = service.get(session=session, order_id=order_id)
    check_if_match(order, if_match)
    service.transition(session=session, order=order, **body.model_dump())
    session.commit()
    set_etag(response, order)
    return order


@router.get("/{order_id}/invoice", response_model=InvoiceOut, dependencies=[READ],
            responses={409: {"description": "Not paid yet, or cancelled"}})
def get_invoice(order_id: PathId, session: SessionDep):
    return service.invoice(session=session, order=service.get(session=session, order_id=order_id))
