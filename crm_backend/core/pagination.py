"""The one list helper: every list endpoint pages, filters and sorts through `paginate`.

Page style: `?page=2&page_size=50&sort=-created_at,name`. Responses carry `items`, `page`,
`page_size` and `total`, so staff tools can show page numbers.
"""

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm_backend.core.config import get_settings
from crm_backend.core.errors import Unprocessable


class PageParams(BaseModel):
    page: int = 1
    page_size: int = 25
    sort: str | None = None


def _page_params(
    page: Annotated[int, Query(ge=1, description="1-based page number")] = 1,
    page_size: Annotated[int | None, Query(ge=1, description="Items per page")] = None,
    sort: Annotated[
        str | None,
        Query(description="Comma-separated fields; prefix with '-' for descending"),
    ] = None,
) -> PageParams:
    settings = get_settings()
    size = page_size or settings.page_size_default
    if size > settings.page_size_max:
        raise Unprocessable(f"page_size may be at most {settings.page_size_max}",
                            page_size=size)
    return PageParams(page=page, page_size=size, sort=sort)


PageDep = Annotated[PageParams, Depends(_page_params)]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int


def apply_filters(stmt: Select, filters: Mapping[Any, Any]) -> Select:
    """Equality filters for the given column -> value pairs; None means 'not filtered'."""
    for column, value in filters.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set)):
            stmt = stmt.where(column.in_(list(value)))
        else:
            stmt = stmt.where(column == value)
    return stmt


def apply_sort(stmt: Select, sort: str | None, sort_fields: Mapping[str, Any],
               default: Sequence[str], tiebreaker: Any) -> Select:
    keys = [k.strip() for k in sort.split(",") if k.strip()] if sort else list(default)
    order = []
    for key in keys:
        name = key.lstrip("-")
        if name not in sort_fields:
            raise Unprocessable(f"cannot sort by {name!r}", allowed=sorted(sort_fields))
        column = sort_fields[name]
        order.append(column.desc() if key.startswith("-") else column.asc())
    # A unique last key keeps pages stable when sort values tie.
    order.append(tiebreaker.asc())
    return stmt.order_by(*order)


def paginate(
    session: Session,
    stmt: Select,
    params: PageParams,
    *,
    sort_fields: Mapping[str, Any],
    default_sort: Sequence[str],
    tiebreaker: Any,
    filters: Mapping[Any, Any] | None = None,
    transform=None,
) -> dict:
    """Run `stmt` filtered, sorted and paged. `transform` maps each row to its schema."""
    stmt = apply_filters(stmt, filters or {})
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    stmt = apply_sort(stmt, params.sort, sort_fields, default_sort, tiebreaker)
    stmt = stmt.limit(params.page_size).offset((params.page - 1) * params.page_size)
    rows = session.scalars(stmt).unique().all()
    items = [transform(r) for r in rows] if transform else list(rows)
    return {"items": items, "page": params.page, "page_size": params.page_size,
            "total": total or 0}
