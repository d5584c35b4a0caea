from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crm_backend.core.errors import Conflict, NotFound
from crm_backend.products.models import Product


def get(*, session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"No product with id {product_id}.", product_id=product_id)
    return product


def get_by_sku(*, session: Session, sku: str) -> Product | None:
    return session.scalar(select(Product).where(Product.sku == sku))


def create(*, session: Session, data: dict) -> Product:
    if get_by_sku(session=session, sku=data["sku"]):
        raise Conflict(f"A product with SKU {data['sku']} already exists.", sku=data["sku"])
    product = Product(**data)
    session.add(product)
    session.flush()
    return product


def update(*, session: Session, product: Product, changes: dict) -> Product:
    for key, value in changes.items():
        setattr(product, key, value)
    session.flush()
    return product


def delete(*, session: Session, product: Product) -> None:
    # Products that were ordered stay referenced by order items; the foreign key refuses the
    # delete and the API answers 409 (deactivate such products instead).
    session.delete(product)
    session.flush()


def list_query(*, q: str | None = None):
    stmt = select(Product)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Product.sku).like(like),
                              func.lower(Product.name).like(like)))
    return stmt
