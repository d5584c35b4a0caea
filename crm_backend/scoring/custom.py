"""Bring your own data: the scoring machinery on staff's own CSV exports.

- `train_custom`: a tabular classifier for any labelled table (mixed types, missing values),
  cross-validated ROC AUC;
- `fit_clv`: BG/NBD and Gamma-Gamma on a transaction list;
- `mine_rules`: frequent itemsets and association rules on baskets.

File problems raise `DataFileError` with one line saying what is wrong.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

from crm_backend.core.config import get_settings
from crm_backend.scoring import associations, clv


class DataFileError(ValueError):
    """A malformed or unsuitable input file; the message is one line for the user."""


def read_csv(path: str | Path, required: list[str] | None = None) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(f"{path}: not a readable CSV file ({first})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataFileError(f"{path}: the file has a header but no rows")
    missing = [c for c in required or [] if c not in frame.columns]
    if missing:
        raise DataFileError(f"{path}: missing column(s) {', '.join(missing)}; found "
                            f"{', '.join(frame.columns[:20])}")
    return frame


def train_custom(path: str | Path, target: str, *, folds: int = 5, seed: int = 0) -> dict:
    frame = read_csv(path, [target])
    frame = frame[frame[target].notna()]
    classes = sorted(frame[target].astype(str).unique())
    if len(classes) != 2:
        raise DataFileError(f"{path}: the target column {target!r} must have exactly two "
                            f"values, it has {len(classes)}")
    positive = _positive_class(classes)
    y = (frame[target].astype(str) == positive).astype(int).to_numpy()
    x = frame.drop(columns=[target])
    numeric, categorical, dropped = [], [], []
    for col in x.columns:
        series = x[col]
        as_number = pd.to_numeric(series, errors="coerce")
        if series.notna().sum() == 0:
            dropped.append(col)
        elif as_number.notna().sum() >= 0.95 * series.notna().sum():
            x[col] = as_number
            numeric.append(col)
        elif series.nunique() > 0.5 * len(series) and series.nunique() > 50:
            dropped.append(col)  # an identifier or free text: no signal for this model
        else:
            x[col] = series.astype(str).where(series.notna(), None)
            categorical.append(col)
    if not numeric and not categorical:
        raise DataFileError(f"{path}: no usable feature columns besides {target!r}")
    minority = int(min(y.sum(), len(y) - y.sum()))
    folds = min(folds, minority)
    if folds < 2:
        raise DataFileError(f"{path}: each value of {target!r} needs at least two rows")
    transformer = ColumnTransformer([
        ("num", SimpleImputer(strategy="median", add_indicator=True), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="(missing)"),
                              OneHotEncoder(handle_unknown="infrequent_if_exist",
                                            min_frequency=5, max_categories=30,
                                            sparse_output=False)), categorical)])
    model = make_pipeline(transformer, HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.06, random_state=seed))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with threadpool_limits(limits=get_settings().scoring_threads):
        scores = cross_val_score(model, x[numeric + categorical], y, cv=cv, scoring="roc_auc")
    return {"file": str(path), "rows": int(len(frame)), "target": target,
            "positive_class": positive, "positive_rate": round(float(y.mean()), 4),
            "numeric_columns": numeric, "categorical_columns": categorical,
            "dropped_columns": dropped,
            "missing_values": int(x[numeric + categorical].isna().sum().sum()),
            "model": "HistGradientBoostingClassifier (median imputation, one-hot categories)",
            "cv_folds": folds, "roc_auc_mean": round(float(scores.mean()), 4),
            "roc_auc_std": round(float(scores.std()), 4),
            "roc_auc_folds": [round(float(s), 4) for s in scores]}


def _positive_class(classes: list[str]) -> str:
    for candidate in ("1", "1.0", "true", "True", "yes", "Yes", "y"):
        if candidate in classes:
            return candidate
    return classes[1]


def fit_clv(path: str | Path, *, horizon_weeks: float = 52, top: int = 10) -> dict:
    frame = read_csv(path, ["customer_id", "date", "amount"])
    dates = pd.to_datetime(frame["date"], errors="coerce", utc=True)
    amounts = pd.to_numeric(frame["amount"], errors="coerce")
    bad = frame.index[dates.isna() | amounts.isna() | frame["customer_id"].isna()]
    if len(bad):
        line = int(bad[0]) + 2  # 1-based, after the header
        raise DataFileError(f"{path}: line {line}: needs a customer_id, a date (YYYY-MM-DD) "
                            f"and a numeric amount ({len(bad)} bad row(s))")
    if (amounts < 0).any():
        raise DataFileError(f"{path}: amounts must not be negative")
    summary = clv.summarise_transactions(frame["customer_id"].astype(str),
                                         dates.dt.tz_localize(None), amounts)
    try:
        bg, bg_info = clv.fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
        gg, gg_info = clv.fit_gamma_gamma(summary["x"], summary["m"])
    except ValueError as exc:
        raise DataFileError(f"{path}: {exc}") from None
    model = clv.ClvModel(bg, gg, horizon_weeks)
    predicted = model.predict(summary["x"], summary["t_x"], summary["T"], summary["m"])
    summary = summary.assign(**{k: np.round(v, 4) for k, v in predicted.items()})
    best = summary.sort_values("clv", ascending=False).head(top)
    return {"file": str(path), "transactions": int(len(frame)),
            "customers": int(len(summary)), "horizon_weeks": horizon_weeks,
            "bgnbd": model.params()["bgnbd"] | {"log_likelihood": bg_info["log_likelihood"],
                                                "converged": bg_info["converged"]},
            "gamma_gamma": model.params()["gamma_gamma"] | {
                "log_likelihood": gg_info["log_likelihood"], "converged": gg_info["converged"],
                "customers_with_repeat_purchases": gg_info["customers"]},
            "predicted_purchases_total": round(float(summary["purchases"].sum()), 2),
            "predicted_clv_total": round(float(np.nansum(summary["clv"])), 2),
            "top_customers": [{"customer_id": str(cid), **{k: float(r[k]) for k in (
                "x", "purchases", "p_alive", "average_value", "clv")}}
                for cid, r in best.iterrows()]}


def mine_rules(path: str | Path, *, min_support: float, min_confidence: float,
               top: int = 20) -> dict:
    if not 0 < min_support <= 1 or not 0 < min_confidence <= 1:
        raise DataFileError("--min-support and --min-confidence must be in (0, 1]")
    frame = read_csv(path, ["basket_id", "item"])
    frame = frame.dropna(subset=["basket_id", "item"])
    if frame.empty:
        raise DataFileError(f"{path}: no rows with both a basket_id and an item")
    baskets = [sorted(set(g.astype(str))) for _, g in frame.groupby("basket_id")["item"]]
    itemsets, rules = associations.mine(baskets, min_support=min_support,
                                        min_confidence=min_confidence)
    records = associations.rules_as_records(rules)
    return {"file": str(path), "baskets": len(baskets),
            "items": int(frame["item"].nunique()), "min_support": min_support,
            "min_confidence": min_confidence, "frequent_itemsets": int(len(itemsets)),
            "rules": len(records),
            "top_itemsets": [{"items": sorted(map(str, r.itemsets)),
                              "support": round(float(r.support), 5)}
                             for r in itemsets.head(top).itertuples()],
            "top_rules": records[:top]}
