"""The one list helper: every list endpoint pages, filters and sorts through `paginate`.

Page style: `?page=2&page_size=50&sort=-created_at,name`. Responses carry `items`, `page`,
`page_size` and `total`, so staff tools can show page numbers.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm_backend.core.config import get_settings
from crm_backend.core.errors import Unprocessable


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int
    sort: str | None
    sort_fields: Mapping[str, Any]
    default_sort: Sequence[str]


MAX_PAGE_SIZE = 200


def Pages(sort_fields: Mapping[str, Any], default_sort: Sequence[str]):  # noqa: N802
    """The paging dependency of one list endpoint, with its sortable fields.

    The `sort` parameter's pattern names exactly those fields, so the OpenAPI document says
    what may be sorted on.
    """
    names = "|".join(sorted(sort_fields))
    pattern = rf"^-?({names})(,-?({names}))*$"

    def dependency(
        page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
        page_size: Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE,
                                               description="Items per page")] = None,
        sort: Annotated[str | None, Query(
            pattern=pattern, max_length=200,
            description=f"Comma-separated fields, '-' for descending; any of: "
                        f"{', '.join(sorted(sort_fields))}. "
                        f"Default: {','.join(default_sort)}")] = None,
    ) -> PageParams:
        return PageParams(page, page_size or get_settings().page_size_default, sort,
                          sort_fields, default_sort)

    return Annotated[PageParams, Depends(dependency)]


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


def apply_sort(stmt: Select, params: PageParams, tiebreaker: Any) -> Select:
    sort_fields = params.sort_fields
    keys = params.sort.split(",") if params.sort else list(params.default_sort)
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


def paginate(session: Session, stmt: Select, params: PageParams, *, tiebreaker: Any,
             filters: Mapping[Any, Any] | None = None) -> dict:
    """Run `stmt` filtered, sorted and paged."""
    stmt = apply_filters(stmt, filters or {})
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    stmt = apply_sort(stmt, params, tiebreaker)
    stmt = stmt.limit(params.page_size).offset((params.page - 1) * params.page_size)
    items = list(session.scalars(stmt).unique().all())
    return {"items": items, "page": params.page, "page_size": params.page_size,
            "total": total or 0}
