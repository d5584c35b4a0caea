from typing import Annotated

from fastapi import APIRouter, Query, Response

from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.core.concurrency import IfMatch, check_if_match, set_etag
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.core.schemas import PathId
from crm_backend.products import service
from crm_backend.products.models import Product
from crm_backend.products.schemas import ProductCreate, ProductOut, ProductUpdate

router = APIRouter(prefix="/products", tags=["products"])
READ = require(Permission.products_read)
WRITE = require(Permission.products_write)


@router.get("", response_model=Page[ProductOut], dependencies=[READ])
def list_products(
    session: SessionDep,
    params: Pages({"name": Product.name, "sku": Product.sku, "price": Product.price,
                   "created_at": Product.created_at}, ["name"]),
    q: Annotated[str | None, Query(description="Search SKU or name", max_length=100)] = None,
    category: str | None = None,
    active: bool | None = None,
):
    return paginate(session, service.list_query(q=q), params, tiebreaker=Product.id,
                    filters={Product.category: category, Product.active: active})


@router.post("", response_model=ProductOut, status_code=201, dependencies=[WRITE])
def create_product(body: ProductCreate, session: SessionDep, response: Response):
    product = service.create(session=session, data=body.model_dump())
    session.commit()
    set_etag(response, product)
    return product


@router.get("/{product_id}", response_model=ProductOut, dependencies=[READ])
def get_product(product_id: PathId, session: SessionDep, response: Response):
    product = service.get(session=session, product_id=product_id)
    set_etag(response, product)
    return product


@router.patch("/{product_id}", response_model=ProductOut, dependencies=[WRITE])
def update_product(product_id: PathId, body: ProductUpdate, session: SessionDep,
                   response: Response, if_match: IfMatch = None):
    product = service.get(session=session, product_id=product_id)
    check_if_match(product, if_match)
    service.update(session=session, product=product, changes=body.model_dump(exclude_unset=True))
    session.commit()
    set_etag(response, product)
    return product


@router.delete("/{product_id}", status_code=204, dependencies=[WRITE])
def delete_product(product_id: PathId, session: SessionDep):
    service.delete(session=session, product=service.get(session=session, product_id=product_id))
    session.commit()
    return Response(status_code=204)
