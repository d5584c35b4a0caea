from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crm_backend.core import numbers
from crm_backend.core.config import get_settings
from crm_backend.core.db import utcnow
from crm_backend.core.errors import Conflict, NotFound, Unprocessable
from crm_backend.core.security import INVOICE_AUDIENCE, create_signed_token, read_signed_token
from crm_backend.customers.models import Customer
from crm_backend.orders import flows
from crm_backend.orders.models import Order, OrderItem, OrderStatus, parse_number
from crm_backend.products.models import Product

NOT_YET_SHIPPED = {OrderStatus.pending, OrderStatus.paid}


def get(*, session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"No order with id {order_id}.", order_id=order_id)
    return order


def _products_for(session: Session, items: list[dict]) -> list[Product]:
    skus = {i["sku"] for i in items if i.get("sku")}
    ids = {i["product_id"] for i in items if i.get("product_id")}
    found = list(session.scalars(select(Product).where(Product.sku.in_(skus)))) if skus else []
    found += list(session.scalars(select(Product).where(Product.id.in_(ids)))) if ids else []
    by_sku = {p.sku: p for p in found}
    by_id = {p.id: p for p in found}
    products, problems = [], []
    for n, item in enumerate(items):
        product = by_sku.get(item["sku"]) if item.get("sku") else by_id.get(item["product_id"])
        ref = item.get("sku") or item.get("product_id")
        if product is None:
            problems.append({"item": n, "error": f"unknown product {ref}"})
        elif not product.active:
            problems.append({"item": n, "error": f"product {ref} is no longer sold"})
        products.append(product)
    if problems:
        raise Unprocessable("Some order items cannot be ordered.", items=problems)
    return products


def create(*, session: Session, data: dict) -> Order:
    customer = session.get(Customer, data["customer_id"])
    if customer is None:
        raise Unprocessable(f"No customer with id {data['customer_id']}.",
                            customer_id=data["customer_id"])
    if customer.erased_at is not None:
        raise Conflict("This customer was erased (GDPR); no new orders can be placed.")
    address = data.get("shipping_address") or customer.address
    if not address:
        raise Unprocessable("A shipping address is needed: the customer has none on file.")
    products = _products_for(session, data["items"])
    items = [OrderItem(product=p, quantity=i["quantity"], unit_price=p.price)
             for p, i in zip(products, data["items"], strict=True)]
    subtotal = sum((i.unit_price * i.quantity for i in items), Decimal("0"))
    shipping = Decimal(str(data.get("shipping_cost") or 0))
    order = Order(customer_id=customer.id, items=items, channel=data["channel"],
                  currency=data["currency"], shipping_address=address, shipping_cost=shipping,
                  subtotal=subtotal, total=subtotal + shipping,
                  external_ref=data.get("external_ref"))
    session.add(order)
    session.flush()
    return order


def update(*, session: Session, order: Order, changes: dict) -> Order:
    if "shipping_address" in changes and order.status not in NOT_YET_SHIPPED:
        raise Conflict("The shipping address can only change before the order ships.",
                       status=order.status)
    for key, value in changes.items():
        setattr(order, key, value)
    session.flush()
    return order


def transition(*, session: Session, order: Order, to: OrderStatus, now: datetime | None = None,
               carrier: str | None = None, tracking_number: str | None = None,
               expected_delivery=None, reason: str | None = None) -> Order:
    now = now or utcnow()
    flows.check_transition(order.status, to, delivered_at=order.delivered_at, now=now,
                           window_days=get_settings().return_window_days)
    if to == OrderStatus.shipped:
        if not (carrier or order.carrier) or not (tracking_number or order.tracking_number):
            raise Unprocessable("Shipping needs a carrier and a tracking number.")
        order.carrier = carrier or order.carrier
        order.tracking_number = tracking_number or order.tracking_number
        order.expected_delivery = expected_delivery or order.expected_delivery
    if to == OrderStatus.return_requested:
        if not reason:
            raise Unprocessable("A return request needs a reason.")
        order.return_reason = reason
    order.status = to
    setattr(order, flows.TIMESTAMP_OF[to], now)
    session.flush()
    return order


def list_query(*, number: str | None = None) -> Select:
    stmt = select(Order)
    if number is not None:
        order_id = parse_number(number)
        if order_id is None:
            raise Unprocessable(f"{number!r} is not an order number such as ORD-000123.")
        stmt = stmt.where(Order.id == order_id)
    return stmt


NO_INVOICE = {OrderStatus.pending, OrderStatus.cancelled}


def invoice(*, session: Session, order: Order) -> dict:
    """The invoice of a paid order (prices include VAT) with a signed link to its page."""
    if order.status in NO_INVOICE:
        raise Conflict("An invoice is issued once the order is paid.", status=order.status)
    settings = get_settings()
    customer = session.get(Customer, order.customer_id)
    vat = (order.total * settings.vat_rate / (1 + settings.vat_rate)).quantize(Decimal("0.01"))
    token, expires = create_signed_token(INVOICE_AUDIENCE, order.id,
                                         settings.invoice_link_minutes)
    return {"number": numbers.format_number("INV-", order.id), "order_number": order.number,
            "issued_at": order.paid_at or order.placed_at, "customer_name": customer.name,
            "billing_address": customer.address or order.shipping_address,
            "currency": order.currency, "lines": order.items, "subtotal": order.subtotal,
            "shipping_cost": order.shipping_cost, "total": order.total,
            "vat_rate": settings.vat_rate, "vat_included": vat,
            "url": f"{settings.public_url.rstrip('/')}/invoices/{token}",
            "url_expires_at": expires}


def order_for_invoice_link(*, session: Session, token: str) -> Order:
    order_id = read_signed_token(INVOICE_AUDIENCE, token)
    order = session.get(Order, order_id) if order_id is not None else None
    if order is None:
        raise NotFound("This invoice link is invalid or has expired.")
    return order
