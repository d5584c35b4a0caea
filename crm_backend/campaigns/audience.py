"""The audience language: a JSON tree of filters, validated with pydantic and compiled to one SQL
condition on customers.

    {"all": [node, ...]}   every child matches
    {"any": [node, ...]}   at least one child matches
    {"not": node}          the child does not match
    {}                     everyone
    {"field": "tag", "op": "has", "value": "vip"}

Fields and their operators:
    marketing_consent           eq                  true or false
    created_at                  before, after       date-time with time zone; "after" includes it
    country, city               eq, in              from the customer's address; countries are
                                                    ISO 3166-1 alpha-2 codes such as DE
    tag                         has, has_not
    segment                     eq, in              the customer's RFM segment label
    score.<name>                gt, gte, lt, lte    e.g. score.churn_risk; no score never matches
    orders_count, total_spent,
    days_since_last_order       gt, gte, lt, lte    cancelled orders do not count; a customer who
                                                    never ordered did so infinitely long ago

Every filter is plainly true or false for every customer (never SQL NULL), so {"not": ...} is the
exact complement of its child. Erased customers never match (`audience_condition`). A tree has at
most MAX_NODES nodes, nested at most MAX_DEPTH levels.
"""

import operator
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, true

from crm_backend.core.db import utcnow
from crm_backend.core.errors import Unprocessable
from crm_backend.customers.models import Customer, CustomerScore, CustomerTag
from crm_backend.orders.models import Order, OrderStatus

MAX_NODES = 200
MAX_DEPTH = 10
COMPARE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}

Comparison = Literal["gt", "gte", "lt", "lte"]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
_COUNTED_ORDER = Order.status != OrderStatus.cancelled


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[str]


class Everyone(_Node):
    kind = "everyone"

    def condition(self) -> ColumnElement[bool]:
        return true()


class AllOf(_Node):
    kind = "all"
    all: list["Node"] = Field(min_length=1)

    def condition(self):
        return and_(*(child.condition() for child in self.all))


class AnyOf(_Node):
    kind = "any"
    any: list["Node"] = Field(min_length=1)

    def condition(self):
        return or_(*(child.condition() for child in self.any))


class Not(_Node):
    model_config = ConfigDict(serialize_by_alias=True)
    kind = "not"
    not_: "Node" = Field(alias="not")

    def condition(self):
        return not_(self.not_.condition())


class ConsentFilter(_Node):
    kind = "marketing_consent"
    field: Literal["marketing_consent"]
    op: Literal["eq"]
    value: StrictBool

    def condition(self):
        return Customer.marketing_consent.is_(self.value)


class CreatedFilter(_Node):
    kind = "created_at"
    field: Literal["created_at"]
    op: Literal["before", "after"]
    value: AwareDatetime

    def condition(self):
        if self.op == "before":
            return Customer.created_at < self.value
        return Customer.created_at >= self.value


class _OneOrMany(_Node):
    """`eq` one text value or `in` a list of them. Checked by hand for one clear message."""

    field: str
    op: Literal["eq", "in"]
    value: Any

    @model_validator(mode="after")
    def _shape(self):
        values = self.value if self.op == "in" else [self.value]
        if not isinstance(values, list) or not 1 <= len(values) <= 1000 or not all(
                isinstance(v, str) and 1 <= len(v) <= 100 for v in values):
            raise ValueError("'eq' takes one text value and 'in' a list of 1 to 1000 of them")
        values = [self.clean(v) for v in values]
        self.value = values if self.op == "in" else values[0]
        return self

    @staticmethod
    def clean(value: str) -> str:
        return value

    @property
    def values(self) -> list[str]:
        return self.value if self.op == "in" else [self.value]


def _in_address(key: str, values: list[str]) -> ColumnElement[bool]:
    text = Customer.address[key].as_string()
    # No address (or no such key) is NULL: make it false, so `not` stays an exact complement.
    return and_(text.is_not(None), text.in_(values))


class CountryFilter(_OneOrMany):
    kind = "country"
    field: Literal["country"]

    @staticmethod
    def clean(value: str) -> str:
        if not (len(value) == 2 and value.isascii() and value.isalpha()):
            raise ValueError("countries are two-letter ISO 3166-1 codes, e.g. DE")
        return value.upper()

    def condition(self):
        return _in_address("country", self.values)


class CityFilter(_OneOrMany):
    kind = "city"
    field: Literal["city"]

    def condition(self):
        return _in_address("city", self.values)


class TagFilter(_Node):
    kind = "tag"
    field: Literal["tag"]
    op: Literal["has", "has_not"]
    # Tags are stored lower-cased (customers.schemas).
    value: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1,
                                            max_length=50)]

    def condition(self):
        has = exists().where(CustomerTag.customer_id == Customer.id, CustomerTag.tag == self.value)
        return has if self.op == "has" else not_(has)


class SegmentFilter(_OneOrMany):
    kind = "segment"
    field: Literal["segment"]

    def condition(self):
        return exists().where(CustomerScore.customer_id == Customer.id,
                              CustomerScore.name == "segment",
                              CustomerScore.label.in_(self.values))


class ScoreFilter(_Node):
    kind = "score"
    field: Annotated[str, Field(pattern=r"^score\.[A-Za-z0-9_]{1,50}$")]
    op: Comparison
    value: Number

    def condition(self):
        return exists().where(CustomerScore.customer_id == Customer.id,
                              CustomerScore.name == self.field.removeprefix("score."),
                              COMPARE[self.op](CustomerScore.value, self.value))


class OrderTotalsFilter(_Node):
    kind = "order_totals"
    field: Literal["orders_count", "total_spent"]
    op: Comparison
    value: Number

    def condition(self):
        if self.field == "orders_count":
            aggregate = func.count(Order.id)
        else:
            aggregate = func.coalesce(func.sum(Order.total), 0)
        per_customer = (select(aggregate)
                        .where(Order.customer_id == Customer.id, _COUNTED_ORDER)
                        .scalar_subquery())
        return COMPARE[self.op](per_customer, self.value)


class RecencyFilter(_Node):
    kind = "recency"
    field: Literal["days_since_last_order"]
    op: Comparison
    value: Annotated[float, Field(strict=True, ge=0, le=36_500)]

    def condition(self):
        cutoff = utcnow() - timedelta(days=self.value)
        # More than N days since the last order <=> no order at or after now - N days; the
        # other comparisons follow the same way, and never-ordered customers need no NULL case.
        placed = Order.placed_at >= cutoff if self.op in ("gt", "lte") else Order.placed_at > cutoff
        recent = exists().where(Order.customer_id == Customer.id, _COUNTED_ORDER, placed)
        return not_(recent) if self.op in ("gt", "gte") else recent


class _Unrecognised(_Node):
    """Catches what no other node matches, to say what is wrong with it."""

    kind = "unrecognised"

    @model_validator(mode="before")
    @classmethod
    def _explain(cls, data):
        if isinstance(data, dict) and isinstance(data.get("field"), str):
            fields = [*_FIELD_KINDS, "score.<name>"]
            raise ValueError(f"unknown field {data['field']!r}; the fields are "
                             + ", ".join(fields))
        raise ValueError('expected {"all": [...]}, {"any": [...]}, {"not": {...}}, {} or a '
                         'filter {"field": ..., "op": ..., "value": ...}')


# Field name -> node kind (the union tag); score.<name> is matched by its prefix.
_FIELD_KINDS = {"marketing_consent": "marketing_consent", "created_at": "created_at",
                "country": "country", "city": "city", "tag": "tag", "segment": "segment",
                "orders_count": "order_totals", "total_spent": "order_totals",
                "days_since_last_order": "recency"}


def _kind_of(node: Any) -> str:
    if isinstance(node, _Node):
        return node.kind
    if not isinstance(node, dict):
        return _Unrecognised.kind
    if not node:
        return Everyone.kind
    for key in ("all", "any", "not"):
        if key in node:
            return key
    field = node.get("field")
    if not isinstance(field, str):
        return _Unrecognised.kind
    if field.startswith("score."):
        return ScoreFilter.kind
    return _FIELD_KINDS.get(field, _Unrecognised.kind)


Node = Annotated[
    Annotated[Everyone, Tag(Everyone.kind)] | Annotated[AllOf, Tag(AllOf.kind)]
    | Annotated[AnyOf, Tag(AnyOf.kind)] | Annotated[Not, Tag(Not.kind)]
    | Annotated[ConsentFilter, Tag(ConsentFilter.kind)]
    | Annotated[CreatedFilter, Tag(CreatedFilter.kind)]
    | Annotated[CountryFilter, Tag(CountryFilter.kind)]
    | Annotated[CityFilter, Tag(CityFilter.kind)] | Annotated[TagFilter, Tag(TagFilter.kind)]
    | Annotated[SegmentFilter, Tag(SegmentFilter.kind)]
    | Annotated[ScoreFilter, Tag(ScoreFilter.kind)]
    | Annotated[OrderTotalsFilter, Tag(OrderTotalsFilter.kind)]
    | Annotated[RecencyFilter, Tag(RecencyFilter.kind)]
    | Annotated[_Unrecognised, Tag(_Unrecognised.kind)],
    Discriminator(_kind_of),
]
for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()


def _bounded(data: Any) -> Any:
    """Refuse oversized trees before validating them: deep recursion and huge SQL."""
    stack, nodes = [(data, 1)], 0
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        if not isinstance(node, dict):
            continue
        nodes += 1
        for key in ("all", "any"):
            if isinstance(node.get(key), list):
                stack.extend((child, depth + 1) for child in node[key])
        if "not" in node:
            stack.append((node["not"], depth + 1))
        if nodes > MAX_NODES:
            raise ValueError(f"more than {MAX_NODES} nodes")
    return data


_AUDIENCE = TypeAdapter(Annotated[Node, BeforeValidator(_bounded)])


def _path(loc: tuple) -> str:
    """`audience.all[0].op` from pydantic's location, which also names the node kind (the
    union tag) at the root, after every list index and after `not`."""
    out, tag_next = "audience", True
    for part in loc:
        if tag_next:
            tag_next = False
        elif isinstance(part, int):
            out, tag_next = f"{out}[{part}]", True
        else:
            out, tag_next = f"{out}.{part}", part == "not"
    return out


def parse(definition: Any) -> _Node:
    """The validated tree; ValueError naming every problem with its place in the tree."""
    try:
        return _AUDIENCE.validate_python(definition)
    except ValidationError as exc:
        problems = [f"{_path(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                    for e in exc.errors()]
        raise ValueError("; ".join(problems)) from None


def normalize(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition as stored: validated, with tags lower-cased and countries upper-cased."""
    return _AUDIENCE.dump_python(parse(definition), mode="json")


def compile_audience(definition: Any) -> ColumnElement[bool]:
    try:
        return parse(definition).condition()
    except ValueError as exc:
        raise Unprocessable(str(exc)) from None


def audience_condition(definition: dict, *, needs_consent: bool) -> ColumnElement[bool]:
    condition = and_(compile_audience(definition), Customer.erased_at.is_(None))
    if needs_consent:
        condition = and_(condition, Customer.marketing_consent.is_(True))
    return condition
