"""Training and batch scoring: what `crm models train`, the API's training jobs and the
schedule run.

Every model is trained as of a reference time T (the data's end, see service.data_end) and a
horizon of N days (`CRM_SCORING_HORIZON_DAYS`): features come from snapshots before T - 2N,
T - N or T, labels from the N days after a snapshot, so held-out metrics are measured on a
later period than the one trained on.
"""

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sqlalchemy import select
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from crm_backend.core.config import get_settings
from crm_backend.scoring import (
    associations,
    churn,
    clusters,
    clv,
    response,
    segments,
    service,
    triage,
)
from crm_backend.scoring import features as feats
from crm_backend.scoring.models import ModelName

Progress = Callable[[float, str], None]
ORDER = [m.value for m in ModelName]
CLV_FIT_ROWS = 200_000


class Context:
    """One training run: the reference time, the horizon, and cached feature snapshots."""

    def __init__(self, session: Session, as_of: datetime | None = None,
                 horizon_days: int | None = None, progress: Progress | None = None):
        self.session = session
        self.as_of = as_of or service.data_end(session)
        self.horizon = timedelta(days=horizon_days or get_settings().scoring_horizon_days)
        self.progress = progress or (lambda fraction, step: None)
        self._snapshots: dict[datetime, pd.DataFrame] = {}
        self.timings: dict[str, float] = {}

    def features(self, at: datetime) -> pd.DataFrame:
        if at not in self._snapshots:
            started = time.perf_counter()
            self._snapshots[at] = feats.compute(self.session, at,
                                                window_days=self.horizon.days)
            self.timings[f"features_{at.date()}"] = round(time.perf_counter() - started, 2)
        return self._snapshots[at]


def _stats(frame: pd.DataFrame, y: pd.Series | None = None, **extra) -> dict:
    out = {"rows": int(len(frame)), **extra}
    if y is not None:
        out["positive_rate"] = round(float(y.mean()), 5) if len(y) else None
    return out


def train_churn(ctx: Context):
    t, n = ctx.as_of, ctx.horizon
    train = churn.population(ctx.features(t - 2 * n))
    y_train = (feats.outcome(ctx.features(t - n), train.index)["orders"] == 0).astype(float)
    test = churn.population(ctx.features(t - n))
    y_test = (feats.outcome(ctx.features(t), test.index)["orders"] == 0).astype(float)
    if y_train.nunique() < 2:
        raise ValueError("churn needs customers who did and did not buy in the training window")
    model, baseline = churn.fit(train, y_train)
    metrics = churn.evaluate(model, baseline, test, y_test)
    params = {"horizon_days": n.days, "features": feats.FEATURES,
              "estimator": "soft vote of HistGradientBoostingClassifier and logistic "
                           "regression on log features, calibrated (CalibratedClassifierCV)",
              "baseline": "logistic regression on log recency, frequency, monetary"}
    stats = {"train": _stats(train, y_train, snapshot=(t - 2 * n).isoformat()),
             "test": _stats(test, y_test, snapshot=(t - n).isoformat())}
    return model, params, metrics, stats


def _clv_inputs(f: pd.DataFrame):
    buyers = f[f["frequency"] > 0]
    return buyers, buyers["bg_x"], buyers["bg_t_x"], buyers["bg_T"], buyers["aov"]


def fit_clv(f: pd.DataFrame, horizon_weeks: float, seed: int = 0) -> tuple[clv.ClvModel, dict]:
    buyers, x, t_x, big_t, m = _clv_inputs(f)
    if len(buyers) > CLV_FIT_ROWS:
        keep = buyers.sample(CLV_FIT_ROWS, random_state=seed).index
        x, t_x, big_t, m = x[keep], t_x[keep], big_t[keep], m[keep]
    bg, bg_info = clv.fit_bgnbd(x, t_x, big_t)
    gg, gg_info = clv.fit_gamma_gamma(x, m)
    return clv.ClvModel(bg, gg, horizon_weeks), {"bgnbd": bg_info, "gamma_gamma": gg_info}


def train_clv(ctx: Context):
    t, n = ctx.as_of, ctx.horizon
    weeks = n.days / 7
    calibration = ctx.features(t - n)
    cal_model, _ = fit_clv(calibration, weeks)
    buyers, x, t_x, big_t, m = _clv_inputs(calibration)
    predicted = cal_model.predict(x, t_x, big_t, m)
    actual = feats.outcome(ctx.features(t), buyers.index)
    # Baseline: each customer keeps buying at their historical rate since the first order.
    rate = buyers["frequency"] / np.maximum(buyers["bg_T"], 1.0)
    baseline_orders = rate * weeks
    baseline_value = baseline_orders * buyers["aov"]

    def compare(pred, truth):
        pred, truth = np.asarray(pred, float), np.asarray(truth, float)
        return {"mae": round(float(np.abs(pred - truth).mean()), 4),
                "spearman": round(float(spearmanr(pred, truth).statistic), 4),
                "predicted_total": round(float(pred.sum()), 2),
                "actual_total": round(float(truth.sum()), 2)}

    metrics = {"holdout_days": n.days, "customers": int(len(buyers)),
               "purchases": {"model": compare(predicted["purchases"], actual["orders"]),
                             "baseline_historical_rate": compare(baseline_orders,
                                                                 actual["orders"])},
               "value": {"model": compare(predicted["clv"], actual["value"]),
                         "baseline_historical_rate": compare(baseline_value, actual["value"])}}
    # The served model is refitted on everything up to T; its parameters are reported.
    model, fit_info = fit_clv(ctx.features(t), 52.0)
    params = model.params() | {"fit": fit_info, "time_unit": "week",
                               "clv": "expected purchases in the next 52 weeks x expected "
                                      "average order value"}
    stats = {"calibration": _stats(buyers, snapshot=(t - n).isoformat()),
             "final": _stats(ctx.features(t), snapshot=t.isoformat())}
    return model, params, metrics, stats


def train_segments(ctx: Context):
    t, n = ctx.as_of, ctx.horizon
    before = ctx.features(t - n)
    seg = segments.score(before)
    bought = feats.outcome(ctx.features(t), before.index)
    table = pd.DataFrame({"segment": seg["segment"], "bought": bought["orders"] > 0,
                          "spend": bought["value"]}).groupby("segment").agg(
        customers=("bought", "size"), purchase_rate=("bought", "mean"),
        mean_spend=("spend", "mean"))
    metrics = {"next_period_by_segment": {
        s: {"customers": int(r.customers), "purchase_rate": round(float(r.purchase_rate), 4),
            "mean_spend": round(float(r.mean_spend), 2)} for s, r in table.iterrows()},
        "sizes_now": segments.score(ctx.features(t))["segment"].value_counts().to_dict()}
    params = {"rules": [{"segment": s, "rule": rule} for s, rule, _ in segments.RULES],
              "scores": "quintiles over customers who bought; 5 = most recent, most frequent, "
                        "highest spend"}
    return {"rules": [s for s, _, _ in segments.RULES]}, params, metrics, {
        "evaluated_on": _stats(before, snapshot=(t - n).isoformat())}


def train_clusters(ctx: Context):
    f = ctx.features(ctx.as_of)
    model, metrics = clusters.fit(f)
    params = {"columns": clusters.COLUMNS, "k_range": [min(clusters.K_RANGE),
                                                       max(clusters.K_RANGE)],
              "scaling": "log1p, then standardised"}
    return model, params, metrics, {"fit": _stats(f[f["frequency"] > 0],
                                                  snapshot=ctx.as_of.isoformat())}


def train_response(ctx: Context):
    rows = response.contacts_with_features(ctx.session)
    if rows.empty or rows["campaign_id"].nunique() < 2:
        raise ValueError("campaign response needs contacts of at least two campaigns")
    train, test, held_out = response.split(rows)
    model = response.fit(train)
    metrics = response.evaluate(model, train, test) | {"held_out_campaign_id": held_out}
    params = {"target": "converted (treated contacts)", "features": feats.FEATURES,
              "uplift": "two-model: treated gradient boosting minus control logistic "
                        "regression", "baseline": "logistic regression on RFM"}
    stats = {"train": _stats(train, train["converted"],
                             campaigns=sorted(int(c) for c in train["campaign_id"].unique())),
             "test": _stats(test, test["converted"], campaigns=[held_out])}
    return model, params, metrics, stats


def train_triage(ctx: Context):
    frame = triage.training_frame(ctx.session)
    if len(frame) < 50:
        raise ValueError("triage needs at least 50 tickets with a first message")
    cut = int(len(frame) * 0.8)
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    model = triage.fit(train)
    metrics = triage.evaluate(model, train, test)
    params = {"tokenizer": "spaCy blank English", "vectorizer": "TF-IDF, words and pairs",
              "classifier": "logistic regression per target (balanced classes)",
              "sentiment_label": "CSAT 1-2 negative, 3 neutral, 4-5 positive"}
    stats = {"train": _stats(train), "test": _stats(test),
             "sentiment_labelled": int(frame["sentiment"].notna().sum())}
    return model, params, metrics, stats


def train_associations(ctx: Context):
    baskets = associations.baskets_from_orders(ctx.session)
    cut = int(len(baskets) * 0.8)
    train, test = baskets[:cut], baskets[cut:]
    settings = get_settings()
    itemsets, rules = associations.mine(train, min_support=settings.rules_min_support,
                                        min_confidence=settings.rules_min_confidence)
    records = associations.rules_as_records(rules)
    popular = pd.Series([i for b in train for i in b]).value_counts().index.tolist()
    metrics = associations.hit_rate(records, test, popular) | {
        "itemsets": int(len(itemsets)), "rules": len(records)}
    params = {"algorithm": "FP-growth (mlxtend)", "min_support": settings.rules_min_support,
              "min_confidence": settings.rules_min_confidence, "max_len": 3}
    stats = {"train_baskets": len(train), "test_baskets": len(test)}
    return {"rules": records}, params, metrics, stats


TRAINERS = {ModelName.churn: train_churn, ModelName.clv: train_clv,
            ModelName.segments: train_segments, ModelName.clusters: train_clusters,
            ModelName.response: train_response, ModelName.triage: train_triage,
            ModelName.associations: train_associations}


def train(session: Session, names: list[str] | None = None, *, as_of: datetime | None = None,
          horizon_days: int | None = None, progress: Progress | None = None,
          score: bool = True) -> dict:
    """Train the named models (default: all), register each, then batch-score customers.
    Commits after each model, so a failure later keeps what was trained."""
    # Native thread pools (OpenMP, BLAS) spin-wait badly when the cores are shared with the
    # database and the API; CRM_SCORING_THREADS sets how many they may use.
    with threadpool_limits(limits=get_settings().scoring_threads):
        return _train(session, names, as_of=as_of, horizon_days=horizon_days,
                      progress=progress, score=score)


def _train(session: Session, names, *, as_of, horizon_days, progress, score) -> dict:
    names = [ModelName(n).value for n in (names or ORDER)]
    ctx = Context(session, as_of, horizon_days, progress)
    steps = len(names) + (1 if score else 0)
    out: dict = {"as_of": ctx.as_of.isoformat(), "models": {}}
    for i, name in enumerate(names):
        ctx.progress(i / steps, f"training {name}")
        started = time.perf_counter()
        obj, params, metrics, stats = TRAINERS[ModelName(name)](ctx)
        seconds = time.perf_counter() - started
        row = service.register(session=session, name=name, obj=obj, seconds=seconds,
                               params=params, metrics=metrics,
                               data_stats=stats | {"as_of": ctx.as_of.isoformat()})
        session.commit()
        out["models"][name] = {"version": row.version, "seconds": round(seconds, 2)}
    if score:
        ctx.progress(len(names) / steps, "scoring customers")
        out["scoring"] = _score_all(session, as_of=ctx.as_of, features=ctx._snapshots.get(
            ctx.as_of))
        session.commit()
    out["feature_seconds"] = ctx.timings
    ctx.progress(1.0, "done")
    return out


def score_all(session: Session, *, as_of: datetime | None = None,
              features: pd.DataFrame | None = None) -> dict:
    """Score every customer with the active models and store the scores (one transaction)."""
    with threadpool_limits(limits=get_settings().scoring_threads):
        return _score_all(session, as_of=as_of, features=features)


def _score_all(session: Session, *, as_of, features) -> dict:
    as_of = as_of or service.data_end(session)
    timings = {}
    started = time.perf_counter()
    if features is None:
        features = feats.compute(session, as_of)
    timings["features_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    ids = features.index.to_numpy()
    buyers = features["frequency"].to_numpy() > 0
    wide = pd.DataFrame(index=pd.Index(ids, name="customer_id"))
    columns: list[service.ScoreColumn] = []
    model, row = service.load(session=session, name=ModelName.churn)
    if model is not None:
        wide["churn_risk"] = np.nan
        wide.loc[buyers, "churn_risk"] = churn.predict(model, features[buyers])
        columns.append(service.ScoreColumn("churn_risk", row.tag, value="churn_risk"))
    model, row = service.load(session=session, name=ModelName.clv)
    if model is not None:
        weeks = features["tenure_days"] / 7
        x = features["bg_x"].where(buyers, 0.0)
        t_x = features["bg_t_x"].where(buyers, 0.0)
        big_t = features["bg_T"].where(buyers, weeks)
        wide["clv"] = model.predict(x, t_x, big_t, features["aov"])["clv"]
        columns.append(service.ScoreColumn("clv", row.tag, value="clv"))
    _, row = service.load(session=session, name=ModelName.segments)
    if row is not None:
        seg = segments.score(features)
        wide["segment_rfm"] = (seg["r"] * 100 + seg["f"] * 10 + seg["m"]).astype(float)
        wide["segment"] = seg["segment"].astype(object)
        columns.append(service.ScoreColumn("segment", row.tag, value="segment_rfm",
                                           label="segment"))
    model, row = service.load(session=session, name=ModelName.clusters)
    if model is not None:
        labels = model.predict(features[buyers]) + 1
        wide["cluster"] = np.nan
        wide.loc[buyers, "cluster"] = labels
        wide["cluster_label"] = pd.Series(None, index=wide.index, dtype=object)
        wide.loc[buyers, "cluster_label"] = [f"cluster_{c}" for c in labels]
        columns.append(service.ScoreColumn("cluster", row.tag, value="cluster",
                                           label="cluster_label"))
    model, row = service.load(session=session, name=ModelName.response)
    if model is not None:
        predicted = model.predict(features)
        wide["campaign_response"] = predicted["response"]
        wide["campaign_uplift"] = predicted["uplift"]
        columns += [service.ScoreColumn("campaign_response", row.tag, value="campaign_response"),
                    service.ScoreColumn("campaign_uplift", row.tag, value="campaign_uplift")]
    timings["predict_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    written = service.write_scores(session=session, scores=wide, columns=columns)
    timings["write_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    from crm_backend.scoring.escalation import refresh_open_tickets

    timings["tickets_rescored"] = refresh_open_tickets(session=session)
    timings["escalation_s"] = round(time.perf_counter() - started, 2)
    return {"customers": int(len(ids)), "scores_written": written, **timings}


def active_models(session: Session) -> list[str]:
    from crm_backend.scoring.models import ModelVersion

    return list(session.scalars(select(ModelVersion.name).where(ModelVersion.active.is_(True))))
