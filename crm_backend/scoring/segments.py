"""RFM segments: recency, frequency and monetary scores 1-5 by quintile, then named segments.

Scores are quintiles over the customers who bought at least once (5 = most recent, most
frequent, highest spend); customers who never bought are `prospect`. The rules are checked in
order and the first match names the segment.
"""

import numpy as np
import pandas as pd

# (segment, rule on the r, f, m scores); first match wins. Names match the audience language's
# `segment` field and the customer list's `segment` filter.
RULES: list[tuple[str, str, object]] = [
    ("champions", "r >= 4, f >= 4, m >= 4", lambda r, f, m: (r >= 4) & (f >= 4) & (m >= 4)),
    ("cant_lose", "r <= 2, f >= 4, m >= 4", lambda r, f, m: (r <= 2) & (f >= 4) & (m >= 4)),
    ("loyal", "r >= 3, f >= 4", lambda r, f, m: (r >= 3) & (f >= 4)),
    ("at_risk", "r <= 2, f >= 3", lambda r, f, m: (r <= 2) & (f >= 3)),
    ("new", "r >= 4, f = 1", lambda r, f, m: (r >= 4) & (f <= 1)),
    ("potential_loyalist", "r >= 4, f <= 3", lambda r, f, m: (r >= 4) & (f <= 3)),
    ("need_attention", "r = 3", lambda r, f, m: r == 3),
    ("hibernating", "r = 2", lambda r, f, m: r == 2),
    ("lost", "r = 1", lambda r, f, m: r <= 1),
]
SEGMENTS = [name for name, _, _ in RULES] + ["prospect"]
DESCRIPTIONS = {
    "champions": "bought recently, often and spend the most",
    "cant_lose": "used to buy often and much, not lately",
    "loyal": "buy often, fairly recently",
    "at_risk": "bought often, but not for a while",
    "new": "first purchase recently",
    "potential_loyalist": "recent buyers with a few orders",
    "need_attention": "middling recency",
    "hibernating": "long since the last, small order history",
    "lost": "longest since the last purchase, few orders",
    "prospect": "never bought",
}


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """1-5 by quintile of rank (ties share the rank's average), 5 the best."""
    pct = values.rank(method="average", pct=True)
    if not higher_is_better:
        pct = 1 - pct + 1 / len(values)
    return np.ceil(pct.clip(1e-9, 1) * 5).astype(int).clip(1, 5)


def name_segments(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The segment of each (r, f, m) score triple, vectorised over customers."""
    r, f, m = np.asarray(r), np.asarray(f), np.asarray(m)
    out = np.full(len(r), "", dtype=object)
    for name, _, rule in RULES:
        out[(out == "") & rule(r, f, m)] = name
    return out


def score(features: pd.DataFrame) -> pd.DataFrame:
    """r, f, m scores and the segment of every customer in the feature frame."""
    buyers = features["frequency"] > 0
    out = pd.DataFrame(index=features.index)
    out["segment"] = "prospect"
    out[["r", "f", "m"]] = 0
    if buyers.any():
        b = features[buyers]
        r = quintile_scores(b["recency_days"], higher_is_better=False)
        f = quintile_scores(b["frequency"])
        m = quintile_scores(b["monetary"])
        out.loc[buyers, "r"], out.loc[buyers, "f"], out.loc[buyers, "m"] = r, f, m
        out.loc[buyers, "segment"] = name_segments(r.to_numpy(), f.to_numpy(), m.to_numpy())
    return out
