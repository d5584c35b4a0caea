import re

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.customers.models import Customer, CustomerScore, CustomerTag
from crm_backend.orders.models import Order, parse_number


def get(*, session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer with id {customer_id}.", customer_id=customer_id)
    return customer


def get_by_email(*, session: Session, email: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.email == normalize_email(email)))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def normalize_phone(phone: str | None) -> str | None:
    """Keep a leading + and the digits, so search by phone ignores formatting."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    return ("+" if phone.strip().startswith("+") else "") + digits


def _ensure_email_free(session: Session, email: str, *, except_id: int | None = None) -> None:
    other = get_by_email(session=session, email=email)
    if other is not None and other.id != except_id:
        raise Conflict(f"Another customer already uses {email}.", email=email,
                       customer_id=other.id)


def apply_consent(customer: Customer, consent: bool) -> None:
    if customer.marketing_consent != consent or customer.marketing_consent_at is None:
        customer.marketing_consent = consent
        customer.marketing_consent_at = utcnow()


def apply_tags(customer: Customer, tags: list[str]) -> None:
    current = {t.tag: t for t in customer.tag_rows}
    customer.tag_rows = [current.get(t) or CustomerTag(tag=t) for t in tags]


def create(*, session: Session, data: dict) -> Customer:
    email = normalize_email(data.pop("email"))
    _ensure_email_free(session, email)
    tags = data.pop("tags", [])
    consent = data.pop("marketing_consent", False)
    data["phone"] = normalize_phone(data.get("phone"))
    customer = Customer(email=email, **data)
    if consent:
        apply_consent(customer, True)
    apply_tags(customer, tags)
    session.add(customer)
    session.flush()
    return customer


def update(*, session: Session, customer: Customer, changes: dict) -> Customer:
    if customer.erased_at is not None:
        raise Conflict("This customer was erased (GDPR) and can no longer be edited.")
    if "email" in changes:
        changes["email"] = normalize_email(changes["email"])
        _ensure_email_free(session, changes["email"], except_id=customer.id)
    if "phone" in changes:
        changes["phone"] = normalize_phone(changes["phone"])
    if "tags" in changes:
        apply_tags(customer, changes.pop("tags"))
    if "marketing_consent" in changes:
        apply_consent(customer, changes.pop("marketing_consent"))
    for key, value in changes.items():
        setattr(customer, key, value)
    session.flush()
    return customer


def search_condition(q: str):
    """Match a free-text query against name, email, phone and order number."""
    q = q.strip()
    like = f"%{q.lower()}%"
    conditions = [func.lower(Customer.name).like(like), Customer.email.like(like)]
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 5 and re.fullmatch(r"[+0-9 ()./-]+", q):
        conditions.append(Customer.phone.like(f"%{digits}%"))
    if (order_id := parse_number(q)) is not None and q.upper().startswith("ORD"):
        conditions.append(Customer.id == select(Order.customer_id)
                          .where(Order.id == order_id).scalar_subquery())
    return or_(*conditions)


def score_value(name: str):
    """The customer's stored score `name` as a correlated subquery (for sorting)."""
    return (select(CustomerScore.value)
            .where(CustomerScore.customer_id == Customer.id, CustomerScore.name == name)
            .scalar_subquery())


def list_query(*, q: str | None = None, tag: str | None = None,
               segment: str | None = None, score: str | None = None,
               score_min: float | None = None, score_max: float | None = None) -> Select:
    stmt = select(Customer)
    if q:
        stmt = stmt.where(search_condition(q))
    if tag:
        stmt = stmt.where(exists().where(CustomerTag.customer_id == Customer.id,
                                         CustomerTag.tag == tag.strip().lower()))
    if segment:
        stmt = stmt.where(exists().where(CustomerScore.customer_id == Customer.id,
                                         CustomerScore.name == "segment",
                                         CustomerScore.label == segment))
    if score:
        bounds = [CustomerScore.customer_id == Customer.id, CustomerScore.name == score]
        if score_min is not None:
            bounds.append(CustomerScore.value >= score_min)
        if score_max is not None:
            bounds.append(CustomerScore.value <= score_max)
        stmt = stmt.where(exists().where(*bounds))
    return stmt


def scores(*, session: Session, customer_id: int) -> list[CustomerScore]:
    return list(session.scalars(select(CustomerScore)
                                .where(CustomerScore.customer_id == customer_id)
                                .order_by(CustomerScore.name)))
