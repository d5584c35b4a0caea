"""Product associations: frequent itemsets (FP-growth) and association rules from order
baskets, with mlxtend; "frequently bought together" reads the rules of one product.

Evaluated on held-out orders (the newest 20 %): for each basket of two or more products, one
product is hidden and the top three recommendations from another product's rules must find
it (hit rate at 3), against recommending the three most popular products.
"""

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.orders.models import Order, OrderItem, OrderStatus

MAX_BASKETS = 200_000


def baskets_from_orders(session: Session, limit: int = MAX_BASKETS) -> list[list]:
    """Product ids of the newest `limit` non-cancelled orders, oldest first."""
    newest = (select(Order.id).where(Order.status != OrderStatus.cancelled)
              .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit).subquery())
    rows = session.execute(select(OrderItem.order_id, OrderItem.product_id)
                           .where(OrderItem.order_id.in_(select(newest.c.id)))
                           .order_by(OrderItem.order_id)).fetchall()
    frame = pd.DataFrame(rows, columns=["basket", "item"])
    return [sorted(set(g)) for _, g in frame.groupby("basket", sort=True)["item"]]


def mine(baskets: list[list], *, min_support: float, min_confidence: float,
         max_len: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(frequent itemsets, rules). Items may be any hashable labels."""
    if not baskets:
        raise ValueError("no baskets to mine")
    encoder = TransactionEncoder()
    onehot = pd.DataFrame(encoder.fit(baskets).transform(baskets), columns=encoder.columns_)
    itemsets = fpgrowth(onehot, min_support=min_support, use_colnames=True, max_len=max_len)
    if itemsets.empty or itemsets["itemsets"].map(len).max() < 2:
        rules = pd.DataFrame(columns=["antecedents", "consequents", "support", "confidence",
                                      "lift"])
    else:
        rules = association_rules(itemsets, num_itemsets=len(onehot), metric="confidence",
                                  min_threshold=min_confidence)
        rules = rules.sort_values(["lift", "confidence"], ascending=False)
    return itemsets.sort_values("support", ascending=False), rules


def rules_as_records(rules: pd.DataFrame) -> list[dict]:
    return [{"antecedents": sorted(r.antecedents, key=str),
             "consequents": sorted(r.consequents, key=str),
             "support": round(float(r.support), 5), "confidence": round(float(r.confidence), 4),
             "lift": round(float(r.lift), 4)} for r in rules.itertuples()]


def recommend(rules: list[dict], item, k: int = 5) -> list[dict]:
    """Rules whose antecedent is exactly `item`, one per consequent product, best first."""
    seen, out = set(), []
    hits = [r for r in rules if r["antecedents"] == [item] and len(r["consequents"]) == 1]
    for r in sorted(hits, key=lambda r: (-r["confidence"], -r["lift"])):
        if r["consequents"][0] not in seen:
            seen.add(r["consequents"][0])
            out.append(r)
    return out[:k]


def hit_rate(rules: list[dict], baskets: list[list], popular: list, k: int = 3,
             seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    by_item: dict = {}
    for r in rules:
        if len(r["antecedents"]) == 1:
            by_item.setdefault(r["antecedents"][0], []).append(r)
    cache: dict = {}
    hits = base_hits = n = 0
    for basket in baskets:
        if len(basket) < 2:
            continue
        hidden, given = rng.choice(len(basket), 2, replace=False)
        target, source = basket[hidden], basket[given]
        if source not in cache:
            cache[source] = [r["consequents"][0]
                             for r in recommend(by_item.get(source, []), source, k)]
        recs = cache[source]
        hits += target in recs
        base_hits += target in [p for p in popular if p != source][:k]
        n += 1
    return {"baskets": n, "hit_rate_at_3": round(hits / n, 4) if n else None,
            "baseline_popular_hit_rate_at_3": round(base_hits / n, 4) if n else None}
