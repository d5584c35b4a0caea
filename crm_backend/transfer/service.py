"""CSV import and export of customers, products and orders.

Export streams rows from a server-side cursor. Import reads the file row by row, validates
every row, and writes all of them in one transaction, or none: a file with any rejected row
changes nothing and comes back with a report naming each bad line.
"""

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any

from pydantic import BaseModel, EmailStr, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crm_backend.core.errors import AppError, Unprocessable
from crm_backend.core.schemas import Address
from crm_backend.customers import service as customers
from crm_backend.customers.models import Customer
from crm_backend.customers.schemas import PHONE_PATTERN
from crm_backend.orders.models import (
    NUMBER_PREFIX,
    Order,
    OrderItem,
    OrderStatus,
    SalesChannel,
    parse_number,
)
from crm_backend.products.models import Product
from crm_backend.products.schemas import ProductCreate

ADDRESS_COLUMNS = ["address_line1", "address_line2", "city", "postal_code", "region", "country"]
SHIP_COLUMNS = ["ship_" + c for c in ADDRESS_COLUMNS]
COLUMNS = {
    "customers": ["email", "name", "phone", *ADDRESS_COLUMNS, "marketing_consent", "tags",
                  "custom_attributes"],
    "products": ["sku", "name", "category", "price", "active"],
    "orders": ["order_ref", "customer_email", "status", "channel", "currency", "placed_at",
               "shipping_cost", "carrier", "tracking_number", *SHIP_COLUMNS, "sku", "quantity",
               "unit_price"],
}
ENTITIES = tuple(COLUMNS)
MAX_REPORTED = 1000
CHUNK = 500


def _blank_to_none(v):
    return None if isinstance(v, str) and not v.strip() else v


def _address(row: dict, prefix: str = "") -> dict | None:
    values = {c.removeprefix("address_"): _blank_to_none(row.get(prefix + c))
              for c in ADDRESS_COLUMNS}
    if not any(values.values()):
        return None
    return Address(**values).model_dump()


class CustomerRow(BaseModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, pattern=PHONE_PATTERN)
    address: dict | None = None
    marketing_consent: bool = False
    tags: list[str] = []
    custom_attributes: dict[str, Any] = {}

    @classmethod
    def parse(cls, row: dict) -> "CustomerRow":
        try:
            attributes = json.loads(row.get("custom_attributes") or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"custom_attributes: not valid JSON ({exc.msg})") from None
        return cls(email=row["email"], name=row["name"], phone=_blank_to_none(row["phone"]),
                   address=_address(row),
                   marketing_consent=_blank_to_none(row["marketing_consent"]) or False,
                   tags=[t for t in (row.get("tags") or "").split(";") if t.strip()],
                   custom_attributes=attributes)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags):
        return sorted({t.strip().lower() for t in tags})


class ProductRow(ProductCreate):
    @classmethod
    def parse(cls, row: dict) -> "ProductRow":
        return cls(**{k: v for k, v in row.items() if _blank_to_none(v) is not None})


class OrderLineRow(BaseModel):
    order_ref: str = Field(min_length=1, max_length=100)
    customer_email: EmailStr
    status: OrderStatus = OrderStatus.pending
    channel: SalesChannel = SalesChannel.web
    currency: str = Field("EUR", pattern="^[A-Z]{3}$")
    placed_at: datetime
    shipping_cost: Decimal = Field(Decimal("0"), ge=0, decimal_places=2)
    carrier: str | None = Field(None, max_length=50)
    tracking_number: str | None = Field(None, max_length=100)
    shipping_address: dict | None = None
    sku: str
    quantity: int = Field(ge=1)
    unit_price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)

    @classmethod
    def parse(cls, row: dict) -> "OrderLineRow":
        values = {k: v for k, v in row.items()
                  if _blank_to_none(v) is not None and k not in SHIP_COLUMNS}
        return cls(**values, shipping_address=_address(row, "ship_"))

    @field_validator("placed_at")
    @classmethod
    def _aware(cls, v: datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)

    def header(self) -> tuple:
        """Fields every line of one order must agree on."""
        return (self.customer_email.lower(), self.status, self.channel, self.currency,
                self.placed_at, self.shipping_cost, self.carrier, self.tracking_number,
                json.dumps(self.shipping_address, sort_keys=True))


PARSERS = {"customers": CustomerRow.parse, "products": ProductRow.parse,
           "orders": OrderLineRow.parse}


class Report:
    def __init__(self, entity: str, dry_run: bool):
        self.entity, self.dry_run = entity, dry_run
        self.rows = self.created = self.updated = 0
        self.rejected: list[dict] = []
        self.rejected_count = 0

    def reject(self, line: int, errors: list[str], values: dict) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append({"line": line, "errors": errors, "values": values})

    def as_dict(self) -> dict:
        return {"entity": self.entity, "dry_run": self.dry_run, "rows": self.rows,
                "created": self.created, "updated": self.updated,
                "rejected_count": self.rejected_count, "rejected": self.rejected}


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}"
                for e in exc.errors()]
    return [str(exc)]


def _read(entity: str, stream: IO[str], report: Report,
          on_row: Callable[[], None]) -> Iterator[tuple[int, Any, dict]]:
    reader = csv.DictReader(stream)
    expected = COLUMNS[entity]
    if reader.fieldnames is None:
        raise Unprocessable("The file is empty; expected a header row.", expected=expected)
    missing = [c for c in expected if c not in reader.fieldnames]
    unknown = [c for c in reader.fieldnames if c not in expected]
    if missing or unknown:
        raise Unprocessable("The header does not match the expected columns.",
                            missing=missing, unknown=unknown, expected=expected)
    for row in reader:
        report.rows += 1
        on_row()
        line = reader.line_num
        if None in row:  # more fields than header columns
            report.reject(line, ["row has more fields than the header"], {})
            continue
        try:
            yield line, PARSERS[entity](row), row
        except (ValidationError, ValueError) as exc:
            report.reject(line, _errors(exc), row)


def _chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_csv(session: Session, entity: str, stream: IO[str], *, dry_run: bool = False,
               on_row: Callable[[], None] = lambda: None) -> dict:
    """Validate and import; commits only if every row is good and dry_run is off."""
    if entity not in COLUMNS:
        raise Unprocessable(f"Unknown entity {entity!r}.", allowed=list(ENTITIES))
    report = Report(entity, dry_run)
    writer = {"customers": _write_customers, "products": _write_products,
              "orders": _write_orders}[entity]
    try:
        writer(session, _read(entity, stream, report, on_row), report)
        session.flush()
    except BaseException:
        session.rollback()
        raise
    if report.rejected_count or dry_run:
        session.rollback()
    else:
        session.commit()
    return report.as_dict()


def _write_customers(session: Session, rows, report: Report) -> None:
    seen: dict[str, int] = {}
    for chunk in _chunks(rows):
        emails = [r.email.lower() for _, r, _ in chunk]
        existing = {c.email: c for c in session.scalars(
            select(Customer).where(Customer.email.in_(emails)))}
        for line, row, raw in chunk:
            email = row.email.lower()
            if email in seen:
                report.reject(line, [f"email {email} already appears on line {seen[email]}"],
                              raw)
                continue
            seen[email] = line
            data = row.model_dump(exclude={"email"})
            if email in existing:
                try:
                    customers.update(session=session, customer=existing[email], changes=data)
                except AppError as exc:
                    report.reject(line, [exc.message], raw)
                    continue
                report.updated += 1
            else:
                customer = Customer(email=email, name=row.name,
                                    phone=customers.normalize_phone(row.phone),
                                    address=row.address,
                                    custom_attributes=row.custom_attributes)
                customers.apply_consent(customer, row.marketing_consent)
                customers.apply_tags(customer, row.tags)
                session.add(customer)
                report.created += 1
        session.flush()


def _write_products(session: Session, rows, report: Report) -> None:
    seen: dict[str, int] = {}
    for chunk in _chunks(rows):
        existing = {p.sku: p for p in session.scalars(
            select(Product).where(Product.sku.in_([r.sku for _, r, _ in chunk])))}
        for line, row, raw in chunk:
            if row.sku in seen:
                report.reject(line, [f"sku {row.sku} already appears on line {seen[row.sku]}"],
                              raw)
                continue
            seen[row.sku] = line
            if row.sku in existing:
                for key, value in row.model_dump(exclude={"sku"}).items():
                    setattr(existing[row.sku], key, value)
                report.updated += 1
            else:
                session.add(Product(**row.model_dump()))
                report.created += 1
        session.flush()


def _write_orders(session: Session, rows, report: Report) -> None:
    # Lines of one order may be spread over the file, so orders are assembled first.
    orders: dict[str, list[tuple[int, OrderLineRow, dict]]] = {}
    for line, row, raw in rows:
        orders.setdefault(row.order_ref, []).append((line, row, raw))
    refs = list(orders)
    taken = set()
    emails, skus = set(), set()
    for lines in orders.values():
        emails.update(r.customer_email.lower() for _, r, _ in lines)
        skus.update(r.sku for _, r, _ in lines)
    for chunk in _chunks(refs):
        taken.update(session.scalars(select(Order.external_ref)
                                     .where(Order.external_ref.in_(chunk))))
        # A ref that is one of our own order numbers (a re-imported export) is taken too.
        own = {parse_number(r): r for r in chunk if r.upper().startswith(NUMBER_PREFIX)}
        own.pop(None, None)
        taken.update(own[i] for i in session.scalars(select(Order.id)
                                                     .where(Order.id.in_(list(own)))))
    by_email = {}
    for chunk in _chunks(emails):
        by_email.update((c.email, c) for c in session.scalars(
            select(Customer).where(Customer.email.in_(chunk))))
    by_sku = {}
    for chunk in _chunks(skus):
        by_sku.update((p.sku, p) for p in session.scalars(
            select(Product).where(Product.sku.in_(chunk))))

    for ref, lines in orders.items():
        first_line, first, _ = lines[0]
        problems = []
        if ref in taken:
            problems.append(f"order {ref} already exists")
        if any(r.header() != first.header() for _, r, _ in lines):
            problems.append(f"the lines of order {ref} disagree on the order's fields "
                            f"(see line {first_line})")
        customer = by_email.get(first.customer_email.lower())
        if customer is None:
            problems.append(f"no customer with email {first.customer_email}")
        missing = sorted({r.sku for _, r, _ in lines} - set(by_sku))
        if missing:
            problems.append(f"unknown sku {', '.join(missing)}")
        if problems:
            for line, _, raw in lines:
                report.reject(line, problems, raw)
            continue
        items = [OrderItem(product=by_sku[r.sku], quantity=r.quantity, unit_price=r.unit_price)
                 for _, r, _ in lines]
        subtotal = sum((i.unit_price * i.quantity for i in items), Decimal("0"))
        order = Order(customer_id=customer.id, external_ref=ref, status=first.status,
                      channel=first.channel, currency=first.currency, items=items,
                      subtotal=subtotal, shipping_cost=first.shipping_cost,
                      total=subtotal + first.shipping_cost,
                      shipping_address=first.shipping_address or customer.address,
                      carrier=first.carrier, tracking_number=first.tracking_number,
                      placed_at=first.placed_at, created_at=first.placed_at)
        session.add(order)
        report.created += 1
        if report.created % CHUNK == 0:
            session.flush()


# Export ---------------------------------------------------------------------------------

def _address_cells(address: dict | None) -> list:
    address = address or {}
    return [address.get(c.removeprefix("address_")) for c in ADDRESS_COLUMNS]


def _customer_cells(c: Customer) -> list:
    return [c.email, c.name, c.phone, *_address_cells(c.address), c.marketing_consent,
            ";".join(c.tags), json.dumps(c.custom_attributes)]


def _product_cells(p: Product) -> list:
    return [p.sku, p.name, p.category, p.price, p.active]


def export_csv(session: Session, entity: str) -> Iterator[str]:
    """CSV text in pieces of a few hundred rows, read from a server-side cursor."""
    if entity not in COLUMNS:
        raise Unprocessable(f"Unknown entity {entity!r}.", allowed=list(ENTITIES))
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(COLUMNS[entity])
    yield buffer.getvalue()
    for rows in _export_rows(session, entity):
        buffer.seek(0)
        buffer.truncate()
        out.writerows(rows)
        yield buffer.getvalue()


def _export_rows(session: Session, entity: str) -> Iterator[list[list]]:
    options = {"yield_per": CHUNK}
    if entity == "customers":
        stmt = select(Customer).order_by(Customer.id)
        for part in session.scalars(stmt, execution_options=options).partitions():
            yield [_customer_cells(c) for c in part]
    elif entity == "products":
        stmt = select(Product).order_by(Product.id)
        for part in session.scalars(stmt, execution_options=options).partitions():
            yield [_product_cells(p) for p in part]
    else:
        stmt = (select(Order, Customer.email).join(Customer, Customer.id == Order.customer_id)
                .options(selectinload(Order.items)).order_by(Order.id))
        for part in session.execute(stmt, execution_options=options).partitions():
            rows = []
            for order, email in part:
                header = [order.number, email, order.status, order.channel, order.currency,
                          order.placed_at.isoformat(), order.shipping_cost, order.carrier,
                          order.tracking_number, *_address_cells(order.shipping_address)]
                rows.extend([*header, i.sku, i.quantity, i.unit_price] for i in order.items)
            yield rows
