"""Deterministic synthetic data, generated column-wise with numpy in chunks of customers.

Each customer has hidden traits (see traits.py) that drive what the data shows: how often and
how much they buy, when they stop, how often they need support and how happy they are, and
how they answer campaigns. Later scoring models have a real signal to find.

Every table comes out as a `Batch`: a table name and equal-length columns (numpy arrays or
lists). Ids are explicit and dense, so batches can be bulk-loaded as they are.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from crm_backend.seed import catalog
from crm_backend.seed.traits import Traits, draw_traits

CHUNK = 20_000  # customers per chunk; fixed so that a seed always gives the same data
DAY = np.timedelta64(1, "D")
HOUR = np.timedelta64(1, "h")
HISTORY_DAYS = 730
TICKET_CATEGORIES = list(catalog.TICKET_TEXTS)
CHANNELS = np.array(["web", "mobile", "marketplace", "phone", "chat"])
CHANNEL_P = [0.55, 0.30, 0.10, 0.03, 0.02]


@dataclass
class Batch:
    table: str
    columns: dict[str, object]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))


@dataclass
class Plan:
    customers: int
    orders: int
    seed: int = 42
    as_of: date = field(default_factory=lambda: datetime.now(UTC).date())

    @property
    def end(self) -> np.datetime64:
        return np.datetime64(self.as_of, "s")


@dataclass
class Counters:
    order: int = 0
    item: int = 0
    ticket: int = 0
    message: int = 0
    contact: int = 0
    conversation: int = 0


PRODUCT_ROWS = [p for bundle in catalog.BUNDLES for p in bundle]
PRICES = np.array([r[3] for r in PRODUCT_ROWS])
PRODUCT_NAMES = np.array([r[1] for r in PRODUCT_ROWS])


def products(plan: Plan) -> Batch:
    rows = PRODUCT_ROWS
    opened = plan.end - np.timedelta64(HISTORY_DAYS, "D")
    return Batch("products", {
        "id": np.arange(1, len(rows) + 1),
        "sku": [r[0] for r in rows], "name": [r[1] for r in rows],
        "category": [r[2] for r in rows], "price": np.array([r[3] for r in rows]),
        "active": np.ones(len(rows), bool),
        "created_at": np.full(len(rows), opened), "updated_at": np.full(len(rows), opened),
        "version": np.ones(len(rows), int),
    })


def _companions() -> tuple[np.ndarray, np.ndarray]:
    """For each product (0-based), two other products of its bundle (or itself if alone)."""
    comp, bundle_of = [], []
    index = 0
    for b, bundle in enumerate(catalog.BUNDLES):
        ids = list(range(index, index + len(bundle)))
        for i in ids:
            others = [j for j in ids if j != i] or [i]
            comp.append([others[0], others[1 % len(others)]])
            bundle_of.append(b)
        index += len(bundle)
    return np.array(comp), np.array(bundle_of)


def campaigns(plan: Plan) -> Batch:
    n = len(catalog.CAMPAIGNS)
    end = plan.end
    # Spread over the last year; each runs three weeks.
    starts = [end - np.timedelta64(int(330 - i * 70), "D") for i in range(n)]
    return Batch("campaigns", {
        "id": np.arange(1, n + 1),
        "name": [c[0] for c in catalog.CAMPAIGNS],
        "channel": [c[1] for c in catalog.CAMPAIGNS],
        "description": [f"{c[0]}: use code {c[2]}." for c in catalog.CAMPAIGNS],
        "audience": [c[4] for c in catalog.CAMPAIGNS],
        "offer_code": [c[2] for c in catalog.CAMPAIGNS],
        "public": [c[3] for c in catalog.CAMPAIGNS],
        "starts_at": np.array(starts, dtype="datetime64[s]"),
        "ends_at": np.array([s + np.timedelta64(21, "D") for s in starts], dtype="datetime64[s]"),
        "budget": np.array([2000.0, 1500.0, 1000.0, 500.0, 300.0][:n]),
        "control_fraction": np.full(n, 0.1),
        "created_at": np.array(starts, dtype="datetime64[s]") - np.timedelta64(7, "D"),
        "updated_at": np.array(starts, dtype="datetime64[s]") - np.timedelta64(7, "D"),
        "version": np.ones(n, int),
    })


def chunks(plan: Plan) -> Iterator[tuple[int, int]]:
    for start in range(0, plan.customers, CHUNK):
        yield start, min(CHUNK, plan.customers - start)


def generate_chunk(plan: Plan, chunk_index: int, first_id: int, size: int,
                   counters: Counters) -> list[Batch]:
    rng = np.random.default_rng([plan.seed, 1, chunk_index])
    traits = draw_traits(plan.seed, chunk_index, size)
    cust = _customers(rng, plan, traits, first_id)
    order_batches, orders = _orders(rng, plan, traits, cust, counters)
    tickets = _tickets(rng, plan, traits, cust, orders, counters)
    contacts = _campaign_contacts(rng, plan, traits, cust, counters)
    conversations = _conversations(rng, cust, counters)
    return [cust["batch"], _tags(cust, traits), *order_batches, *tickets, contacts,
            conversations]


def _customers(rng, plan: Plan, traits: Traits, first_id: int) -> dict:
    n = len(traits)
    ids = np.arange(first_id, first_id + n)
    first = rng.integers(0, len(catalog.FIRST_NAMES), n)
    last = rng.integers(0, len(catalog.LAST_NAMES), n)
    place = rng.integers(0, len(catalog.PLACES), n)
    signup = plan.end - (rng.uniform(7, HISTORY_DAYS, n) * 86400).astype("timedelta64[s]")
    consent = rng.random(n) < 0.35 + 0.5 * traits.responsiveness
    names = [f"{catalog.FIRST_NAMES[f]} {catalog.LAST_NAMES[s]}" for f, s in zip(first, last,
                                                                             strict=True)]
    emails = [f"{catalog.FIRST_NAMES[f]}.{catalog.LAST_NAMES[s]}.{i}@example.com".lower()
              .replace(" ", "").replace("ü", "ue").replace("ö", "oe").replace("í", "i")
              for f, s, i in zip(first, last, ids, strict=True)]
    phones = [f"+49{int(p)}" for p in rng.integers(1500000000, 1799999999, n)]
    street = rng.integers(0, len(catalog.STREETS), n)
    number = rng.integers(1, 120, n)
    postal = rng.integers(100, 999, n)
    addresses = [json.dumps({"line1": f"{catalog.STREETS[s]} {k}", "line2": None,
                             "city": catalog.PLACES[p][0],
                             "postal_code": f"{catalog.PLACES[p][1]}{z}", "region": None,
                             "country": catalog.PLACES[p][2]})
                 for s, k, p, z in zip(street, number, place, postal, strict=True)]
    batch = Batch("customers", {
        "id": ids, "name": names, "email": emails, "phone": phones, "address": addresses,
        "marketing_consent": consent,
        "marketing_consent_at": np.where(consent, signup, np.datetime64("NaT")),
        "custom_attributes": ["{}"] * n, "created_at": signup, "updated_at": signup,
        "version": np.ones(n, int),
    })
    return {"ids": ids, "signup": signup, "consent": consent, "addresses": addresses,
            "batch": batch}


def _tags(cust: dict, traits: Traits) -> Batch:
    vip = np.flatnonzero(traits.value > np.quantile(traits.value, 0.9))
    news = np.flatnonzero(cust["consent"])
    ids = np.concatenate([cust["ids"][vip], cust["ids"][news]])
    tags = ["vip"] * len(vip) + ["newsletter"] * len(news)
    return Batch("customer_tags", {"customer_id": ids, "tag": tags})


def _orders(rng, plan: Plan, traits: Traits, cust: dict, counters: Counters):
    n = len(traits)
    end = plan.end
    lifetime_days = (end - cust["signup"]) / DAY
    # Churners stop buying after an exponentially distributed active spell.
    churned = rng.random(n) < traits.churn
    active_days = np.where(churned,
                           np.minimum(lifetime_days, rng.exponential(0.4 * lifetime_days + 1)),
                           lifetime_days)
    stop = cust["signup"] + (active_days * 86400).astype("timedelta64[s]")
    activity = traits.value ** 0.5 * (0.5 + traits.loyalty)
    exposure = activity * active_days
    # Scaled so the chunk's expected order count matches its share of the plan.
    counts = rng.poisson(exposure * (plan.orders / plan.customers * n) / exposure.sum())
    total = int(counts.sum())
    owner = np.repeat(np.arange(n), counts)
    ids = np.arange(counters.order + 1, counters.order + total + 1)
    counters.order += total
    span = (stop - cust["signup"])[owner].astype("int64")
    placed = cust["signup"][owner] + (rng.random(total) * span).astype("timedelta64[s]")

    # Timestamps first; the status is whatever has happened by as_of.
    nat = np.datetime64("NaT", "s")
    paid = placed + (rng.uniform(1, 60, total) * 60).astype("timedelta64[s]")
    shipped = paid + (rng.uniform(12, 40, total) * 3600).astype("timedelta64[s]")
    late = rng.random(total) < 0.04 + 0.03 * traits.ticket_proneness[owner]
    transit_h = np.where(late, rng.uniform(120, 300, total), rng.uniform(20, 90, total))
    delivered = shipped + (transit_h * 3600).astype("timedelta64[s]")
    expected = (shipped + np.timedelta64(3, "D")).astype("datetime64[D]")
    cancelled_at = paid + (rng.uniform(1, 20, total) * 3600).astype("timedelta64[s]")
    requested = delivered + (rng.uniform(1, 25, total) * 86400).astype("timedelta64[s]")
    returned = requested + (rng.uniform(2, 7, total) * 86400).astype("timedelta64[s]")
    refunded = returned + (rng.uniform(1, 4, total) * 86400).astype("timedelta64[s]")

    is_cancelled = (rng.random(total) < 0.03) & (cancelled_at <= end)
    is_paid = (paid <= end) & ~is_cancelled
    is_shipped = (shipped <= end) & ~is_cancelled
    is_delivered = (delivered <= end) & ~is_cancelled
    returning = is_delivered & (rng.random(total) < 0.03 + 0.08 * traits.churn[owner])
    has_request = returning & (requested <= end)
    is_returned = has_request & (returned <= end) & (rng.random(total) < 0.85)
    is_refunded = is_returned & (refunded <= end)
    status = np.full(total, "pending", dtype=object)
    status[is_paid] = "paid"
    status[is_shipped] = "shipped"
    status[is_delivered] = "delivered"
    status[has_request] = "return_requested"
    status[is_returned] = "returned"
    status[is_refunded] = "refunded"
    status[is_cancelled] = "cancelled"
    is_paid_at = paid <= end  # cancellations come after payment

    # Items: the first from the customer's taste, the rest often from the same bundle.
    comp, _ = _companions()
    prices = PRICES
    n_products = len(prices)
    premium = np.flatnonzero(prices >= np.quantile(prices, 0.66))
    k = np.minimum(1 + rng.poisson(0.35 + 0.35 * np.minimum(traits.value[owner], 3)), 4)
    n_items = int(k.sum())
    item_order = np.repeat(np.arange(total), k)
    position = np.arange(n_items) - np.repeat(np.cumsum(k) - k, k)
    taste = rng.integers(0, n_products, total)
    go_premium = rng.random(total) < np.minimum(0.8, 0.25 * traits.value[owner])
    taste[go_premium] = premium[rng.integers(0, len(premium), int(go_premium.sum()))]
    first = taste[item_order]
    companion = comp[first, np.clip(position - 1, 0, 1)]
    random_pick = rng.integers(0, n_products, n_items)
    product_idx = np.where(position == 0, first,
                           np.where(rng.random(n_items) < 0.7, companion, random_pick))
    quantity = 1 + (rng.random(n_items) < 0.08 * np.minimum(traits.value[owner][item_order], 3))
    unit_price = prices[product_idx]
    line = unit_price * quantity
    subtotal = np.bincount(item_order, weights=line, minlength=total).round(2)
    shipping = np.where(subtotal >= 50, 0.0, 4.90)
    item_ids = np.arange(counters.item + 1, counters.item + n_items + 1)
    counters.item += n_items
    carrier = np.array(catalog.CARRIERS)[rng.integers(0, len(catalog.CARRIERS), total)]

    def when(mask, values):
        return np.where(mask, values, nat)

    addresses = np.array(cust["addresses"], dtype=object)[owner]
    orders = Batch("orders", {
        "id": ids, "customer_id": cust["ids"][owner], "status": status,
        "channel": CHANNELS[rng.choice(len(CHANNELS), total, p=CHANNEL_P)],
        "currency": ["EUR"] * total, "subtotal": subtotal, "shipping_cost": shipping,
        "total": (subtotal + shipping).round(2), "shipping_address": addresses,
        "carrier": np.where(is_shipped, carrier, None),
        "tracking_number": np.where(is_shipped, np.char.add("TRK", ids.astype(str)), None),
        "expected_delivery": np.where(is_shipped, expected, np.datetime64("NaT", "D")),
        "external_ref": [None] * total,
        "return_reason": np.where(has_request, "Does not fit my needs", None),
        "placed_at": placed, "paid_at": when(is_paid_at, paid),
        "shipped_at": when(is_shipped, shipped), "delivered_at": when(is_delivered, delivered),
        "cancelled_at": when(is_cancelled, cancelled_at),
        "return_requested_at": when(has_request, requested),
        "returned_at": when(is_returned, returned),
        "refunded_at": when(is_refunded, refunded),
        "created_at": placed, "updated_at": placed, "version": np.ones(total, int),
    })
    items = Batch("order_items", {
        "id": item_ids, "order_id": ids[item_order], "product_id": product_idx + 1,
        "quantity": quantity.astype(int), "unit_price": unit_price,
    })
    facts = {"owner": owner, "ids": ids, "placed": placed, "status": status, "late": late,
             "first_product": first, "delivered": delivered, "is_delivered": is_delivered}
    return [orders, items], facts


def _tickets(rng, plan: Plan, traits: Traits, cust: dict, orders: dict,
             counters: Counters) -> list[Batch]:
    from crm_backend.tickets.sla import due_times

    end = plan.end
    owner = orders["owner"]
    status = orders["status"]
    late = orders["late"] & orders["is_delivered"]
    p = 0.015 * traits.ticket_proneness[owner] + np.where(late, 0.45, 0.0) \
        + np.where(np.isin(status, ["return_requested", "returned", "refunded"]), 0.25, 0.0) \
        + np.where(status == "cancelled", 0.1, 0.0)
    has = rng.random(len(owner)) < np.minimum(p, 0.95)
    idx = np.flatnonzero(has)
    t = len(idx)
    if t == 0:
        return []
    cat_random = np.array(TICKET_CATEGORIES)[rng.integers(0, len(TICKET_CATEGORIES), t)]
    category = np.where(late[idx], "delivery_problem",
                        np.where(np.isin(status[idx], ["return_requested", "returned",
                                                       "refunded"]), "return_refund",
                                 cat_random))
    who = owner[idx]
    churn = traits.churn[who]
    created = orders["placed"][idx] + (rng.uniform(0.2, 12, t) * 86400).astype("timedelta64[s]")
    created = np.where(late[idx], orders["delivered"][idx] - np.timedelta64(1, "D"), created)
    created = np.minimum(created, end - np.timedelta64(600, "s"))
    priority = np.where(category == "complaint", "high", np.array(["low", "normal", "high",
                                                                   "urgent"])[
        rng.choice(4, t, p=[0.15, 0.6, 0.2, 0.05])])
    age_h = (end - created) / HOUR
    respond_h = rng.gamma(2.0, 3.0, t)
    resolve_h = respond_h + rng.gamma(2.0, 14.0, t)
    responded = age_h > respond_h
    resolved = age_h > resolve_h
    closed = resolved & (age_h > resolve_h + 72)
    open_status = np.array(["new", "open", "pending", "escalated"])[
        rng.choice(4, t, p=[0.3, 0.4, 0.2, 0.1])]
    tstatus = np.where(closed, "closed", np.where(resolved, "resolved",
                       np.where(responded & (open_status == "new"), "open", open_status)))
    responded_at = created + (respond_h * 3600).astype("timedelta64[s]")
    resolved_at = created + (resolve_h * 3600).astype("timedelta64[s]")
    closed_at = resolved_at + np.timedelta64(72, "h")
    answers = resolved & (rng.random(t) < 0.4)
    csat = np.clip(np.rint(4.6 - 2.6 * churn - 0.8 * late[idx] + rng.normal(0, 0.6, t)), 1, 5)
    ids = np.arange(counters.ticket + 1, counters.ticket + t + 1)
    counters.ticket += t
    first_due, resolve_due = [], []
    for c, pr in zip(created.astype("datetime64[us]").astype(datetime), priority, strict=True):
        f, r = due_times(c.replace(tzinfo=UTC), pr)
        first_due.append(f)
        resolve_due.append(r)
    first_due = np.array([d.replace(tzinfo=None) for d in first_due], dtype="datetime64[s]")
    resolve_due = np.array([d.replace(tzinfo=None) for d in resolve_due], dtype="datetime64[s]")
    nat = np.datetime64("NaT", "s")
    product_names = PRODUCT_NAMES[orders["first_product"][idx]]
    numbers = np.char.add("ORD-", np.char.zfill(orders["ids"][idx].astype(str), 6))
    subjects = [f"{c.replace('_', ' ').capitalize()}: {n}" for c, n in zip(category, numbers,
                                                                          strict=True)]
    tickets = Batch("tickets", {
        "id": ids, "customer_id": cust["ids"][who], "order_id": orders["ids"][idx],
        "conversation_id": [None] * t,
        "channel": np.array(["chat", "email", "web", "phone", "telegram"])[
            rng.choice(5, t, p=[0.35, 0.35, 0.15, 0.1, 0.05])],
        "subject": subjects, "category": category, "priority": priority, "status": tstatus,
        "assignee_id": [None] * t, "first_response_due_at": first_due,
        "resolution_due_at": resolve_due,
        "first_responded_at": np.where(responded, responded_at, nat),
        "resolved_at": np.where(resolved, resolved_at, nat),
        "closed_at": np.where(closed, closed_at, nat),
        "csat_score": np.where(answers, csat, np.nan),
        "csat_comment": [None] * t, "created_at": created, "updated_at": created,
        "version": np.ones(t, int),
    })
    messages = _messages(rng, ids, category, churn, late[idx], product_names, numbers, created,
                         responded, responded_at, counters)
    return [tickets, messages]


def _messages(rng, ticket_ids, category, churn, late, product_names, numbers, created,
              responded, responded_at, counters: Counters) -> Batch:
    t = len(ticket_ids)
    mood_score = rng.normal(0.5 - churn - 0.5 * late, 0.4)
    moods = np.where(mood_score < -0.15, "negative",
                     np.where(mood_score > 0.45, "positive", "neutral"))
    bodies = []
    for c, m, prod, num, r in zip(category, moods, product_names, numbers, rng.random(t),
                                  strict=True):
        texts = catalog.TICKET_TEXTS[c]
        mood_lines = catalog.MOODS[m]
        text = texts[int(r * len(texts))].format(product=prod, order=num,
                                                 mood=mood_lines[int(r * 7919) % len(mood_lines)])
        bodies.append(text.strip())
    replies = np.flatnonzero(responded)
    n_msg = t + len(replies)
    reply_text = np.array(catalog.AGENT_REPLIES)[rng.integers(0, len(catalog.AGENT_REPLIES),
                                                              len(replies))]
    ids = np.arange(counters.message + 1, counters.message + n_msg + 1)
    counters.message += n_msg
    return Batch("ticket_messages", {
        "id": ids,
        "ticket_id": np.concatenate([ticket_ids, ticket_ids[replies]]),
        "author_kind": ["customer"] * t + ["agent"] * len(replies),
        "author_user_id": [None] * n_msg,
        "body": bodies + list(reply_text),
        "internal": np.zeros(n_msg, bool),
        "external_id": [None] * n_msg,
        "created_at": np.concatenate([created, responded_at[replies]]),
    })


def _campaign_contacts(rng, plan: Plan, traits: Traits, cust: dict,
                       counters: Counters) -> Batch:
    camp = campaigns(plan)
    cols: dict[str, list] = {k: [] for k in ("campaign_id", "customer_id", "is_control",
                                             "sent_at", "opened_at", "clicked_at",
                                             "converted_at", "revenue")}
    nat = np.datetime64("NaT", "s")
    for c in range(len(camp)):
        start = camp.columns["starts_at"][c]
        eligible = cust["signup"] < start
        if camp.columns["channel"][c] in ("email", "sms"):
            eligible &= cust["consent"]
        chosen = np.flatnonzero(eligible & (rng.random(len(traits)) < 0.5))
        m = len(chosen)
        resp = traits.responsiveness[chosen]
        control = rng.random(m) < camp.columns["control_fraction"][c]
        sent = start + (rng.uniform(0, 2, m) * 86400).astype("timedelta64[s]")
        opened = ~control & (rng.random(m) < 0.15 + 0.6 * resp)
        clicked = opened & (rng.random(m) < 0.1 + 0.5 * resp)
        p_convert = np.where(control, 0.01 + 0.04 * resp, np.where(clicked, 0.1 + 0.4 * resp,
                                                                   0.01 + 0.04 * resp))
        converted = rng.random(m) < p_convert
        revenue = np.where(converted, (rng.lognormal(3.8, 0.5, m) * traits.value[chosen] ** 0.5)
                           .round(2), 0.0)
        delay = (rng.uniform(1, 72, m) * 3600).astype("timedelta64[s]")
        cols["campaign_id"].append(np.full(m, c + 1))
        cols["customer_id"].append(cust["ids"][chosen])
        cols["is_control"].append(control)
        cols["sent_at"].append(np.where(control, nat, sent))
        cols["opened_at"].append(np.where(opened, sent + delay, nat))
        cols["clicked_at"].append(np.where(clicked, sent + delay * 2, nat))
        cols["converted_at"].append(np.where(converted, sent + delay * 3, nat))
        cols["revenue"].append(revenue)
    joined = {k: np.concatenate(v) for k, v in cols.items()}
    total = len(joined["campaign_id"])
    joined = {"id": np.arange(counters.contact + 1, counters.contact + total + 1), **joined}
    counters.contact += total
    return Batch("campaign_contacts", joined)


def _conversations(rng, cust: dict, counters: Counters) -> Batch:
    n = len(cust["ids"])
    has = rng.random(n) < 0.3
    who = np.flatnonzero(has)
    m = len(who)
    channel = np.array(["socketio", "telegram", "slack", "facebook"])[
        rng.choice(4, m, p=[0.6, 0.2, 0.1, 0.1])]
    seen = cust["signup"][who] + (rng.uniform(1, 300, m) * 86400).astype("timedelta64[s]")
    ids = np.arange(counters.conversation + 1, counters.conversation + m + 1)
    counters.conversation += m
    return Batch("conversations", {
        "id": ids, "channel": channel,
        "sender_id": [f"{c}-{int(x):010d}" for c, x in zip(channel, cust["ids"][who] * 7919 + 17,
                                                          strict=True)],
        "customer_id": cust["ids"][who], "identified_at": seen, "last_message_at": seen,
        "created_at": seen, "updated_at": seen,
    })
