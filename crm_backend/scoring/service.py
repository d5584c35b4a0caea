"""The model registry, stored scores and training jobs: plain keyword-only functions that
flush but never commit (training jobs, which run outside a request, commit their progress)."""

import io
import pickle
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Select, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

import crm_backend.core.models  # noqa: F401  (every table, for commands run outside the app)
from crm_backend.core.db import utcnow
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.customers.models import CustomerScore
from crm_backend.orders.models import Order
from crm_backend.scoring.models import JobStatus, ModelVersion, TrainingJob

# Score names written by batch scoring (customer_scores.name); the audience language reads
# them as `segment` and `score.<name>`.
SCORE_NAMES = ("churn_risk", "clv", "segment", "cluster", "campaign_response",
               "campaign_uplift")

_loaded: dict[tuple, object] = {}


def register(*, session: Session, name: str, obj, seconds: float, params: dict,
             metrics: dict, data_stats: dict, activate: bool = True) -> ModelVersion:
    """Store a trained model as the next version of `name` (and make it the active one)."""
    latest = session.scalar(select(func.max(ModelVersion.version))
                            .where(ModelVersion.name == name)) or 0
    row = ModelVersion(name=name, version=latest + 1, training_seconds=round(seconds, 3),
                       params=_jsonable(params), metrics=_jsonable(metrics),
                       data_stats=_jsonable(data_stats), artifact=pickle.dumps(obj),
                       active=False, trained_at=utcnow())
    session.add(row)
    session.flush()
    if activate:
        activate_version(session=session, model=row)
    return row


def activate_version(*, session: Session, model: ModelVersion) -> ModelVersion:
    session.execute(update(ModelVersion).where(ModelVersion.name == model.name,
                                               ModelVersion.id != model.id)
                    .values(active=False).execution_options(synchronize_session="fetch"))
    model.active, model.activated_at = True, utcnow()
    session.flush()
    return model


def get(*, session: Session, model_id: int) -> ModelVersion:
    row = session.get(ModelVersion, model_id)
    if row is None:
        raise NotFound(f"No model version with id {model_id}.", model_id=model_id)
    return row


def get_version(*, session: Session, name: str, version: int) -> ModelVersion:
    row = session.scalar(select(ModelVersion).where(ModelVersion.name == name,
                                                    ModelVersion.version == version))
    if row is None:
        raise NotFound(f"No version {version} of model {name!r}.", name=name, version=version)
    return row


def active(*, session: Session, name: str) -> ModelVersion | None:
    return session.scalar(select(ModelVersion).where(ModelVersion.name == name,
                                                     ModelVersion.active.is_(True)))


def rollback(*, session: Session, name: str, version: int | None = None) -> ModelVersion:
    """Make `version` (default: the one before the active one) the active version."""
    current = active(session=session, name=name)
    if version is None:
        if current is None:
            raise NotFound(f"Model {name!r} has no active version to roll back from.")
        version = session.scalar(select(func.max(ModelVersion.version)).where(
            ModelVersion.name == name, ModelVersion.version < current.version))
        if version is None:
            raise Conflict(f"Model {name!r} has no version before {current.version}.",
                           name=name, active_version=current.version)
    return activate_version(session=session, model=get_version(session=session, name=name,
                                                               version=version))


def load(*, session: Session, name: str):
    """(fitted object, registry row) of the active version, or (None, None) if none."""
    row = active(session=session, name=name)
    if row is None:
        return None, None
    key = (row.id, row.name, row.version, row.trained_at)
    if key not in _loaded:
        _loaded[key] = pickle.loads(row.artifact)
    return _loaded[key], row


def list_query(*, name: str | None = None, active_only: bool | None = None) -> Select:
    stmt = select(ModelVersion)
    if name:
        stmt = stmt.where(ModelVersion.name == name)
    if active_only is not None:
        stmt = stmt.where(ModelVersion.active.is_(active_only))
    return stmt


def data_end(session: Session) -> datetime:
    """The reference time models are trained and scored at: the last order placed (so a
    historical data set is scored as of its own end), never later than now."""
    last = session.scalar(select(func.max(Order.placed_at)))
    now = datetime.now(UTC)
    return min(last, now) if last else now


# --- scores -------------------------------------------------------------------------------

@dataclass
class ScoreColumn:
    """One stored score: its name, the columns of the wide frame holding its value and label,
    and the model version that made it."""

    name: str
    version: str
    value: str | None = None
    label: str | None = None


def write_scores(*, session: Session, scores: pd.DataFrame, columns: list[ScoreColumn]) -> int:
    """Replace the stored scores `columns` name with those in `scores` (one row per customer,
    indexed by customer id; a customer with neither value nor label gets no row), in one
    transaction: readers see the old set until commit. Returns the rows written."""
    if not columns:
        return 0
    names = [c.name for c in columns]
    now = utcnow()
    conn = session.connection()
    conn.execute(delete(CustomerScore).where(CustomerScore.name.in_(names)))
    if scores.empty:
        return 0
    if conn.dialect.name == "postgresql":
        return _copy_scores(conn, scores, columns, now)
    records = []
    for c in columns:
        values = scores[c.value] if c.value else pd.Series(np.nan, index=scores.index)
        labels = scores[c.label] if c.label else pd.Series(None, index=scores.index,
                                                           dtype=object)
        keep = values.notna() | labels.notna()
        part = pd.DataFrame({"customer_id": scores.index[keep], "value": values[keep],
                             "label": labels[keep]})
        part = part.astype(object).where(part.notna(), None)
        records += [{"customer_id": int(r["customer_id"]), "name": c.name,
                     "value": r["value"], "label": r["label"], "model_version": c.version,
                     "scored_at": now} for r in part.to_dict("records")]
    if records:
        conn.execute(insert(CustomerScore), records)
    return len(records)


def _copy_scores(conn, scores: pd.DataFrame, columns: list[ScoreColumn], now) -> int:
    """COPY the wide frame into a temporary table, then unpivot it into customer_scores in
    one INSERT ... SELECT: the database does the per-row work, Python writes one line per
    customer."""
    wide = [c for col in columns for c in (col.value, col.label) if c]
    sql_types = {c: "varchar(50)" if scores[c].dtype == object else "double precision"
                 for c in wide}
    conn.execute(text("CREATE TEMP TABLE score_load (customer_id int, "
                      + ", ".join(f'"{c}" {sql_types[c]}' for c in wide) + ") ON COMMIT DROP"))
    buffer = io.StringIO()
    scores[wide].to_csv(buffer, sep="\t", header=False, index=True, na_rep=r"\N",
                        float_format="%.6g")
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy("COPY score_load FROM STDIN") as copy:
        copy.write(buffer.getvalue().encode())
    selects, params = [], {"now": now}
    for i, c in enumerate(columns):
        value = f'"{c.value}"' if c.value else "NULL::double precision"
        label = f'"{c.label}"' if c.label else "NULL::varchar"
        present = " OR ".join(f'"{x}" IS NOT NULL' for x in (c.value, c.label) if x)
        params[f"n{i}"], params[f"v{i}"] = c.name, c.version
        selects.append(f"SELECT customer_id, :n{i}, {value}, {label}, :v{i}, "
                       f"CAST(:now AS timestamptz) FROM score_load WHERE {present}")
    written = conn.execute(text(
        "INSERT INTO customer_scores (customer_id, name, value, label, model_version, "
        "scored_at) " + " UNION ALL ".join(selects)), params).rowcount
    conn.execute(text("DROP TABLE score_load"))
    return written


def segment_summary(*, session: Session) -> list[dict]:
    """Per segment: customers, mean CLV and mean churn risk (from the stored scores)."""
    seg, clv, churn = (CustomerScore.__table__.alias(n) for n in ("seg", "clv", "churn"))
    rows = session.execute(
        select(seg.c.label, func.count(), func.avg(clv.c.value), func.sum(clv.c.value),
               func.avg(churn.c.value))
        .select_from(seg)
        .outerjoin(clv, (clv.c.customer_id == seg.c.customer_id) & (clv.c.name == "clv"))
        .outerjoin(churn, (churn.c.customer_id == seg.c.customer_id)
                   & (churn.c.name == "churn_risk"))
        .where(seg.c.name == "segment").group_by(seg.c.label).order_by(func.count().desc()))
    return [{"segment": label, "customers": n,
             "mean_clv": None if m is None else round(float(m), 2),
             "total_clv": None if s is None else round(float(s), 2),
             "mean_churn_risk": None if c is None else round(float(c), 4)}
            for label, n, m, s, c in rows]


# --- jobs ---------------------------------------------------------------------------------

def create_job(*, session: Session, models: list[str], created_by: str) -> TrainingJob:
    running = session.scalar(select(TrainingJob).where(
        TrainingJob.status.in_([JobStatus.queued, JobStatus.running])))
    if running is not None:
        raise Conflict("A training job is already queued or running.", job_id=running.id)
    job = TrainingJob(models=models, created_by=created_by, status=JobStatus.queued)
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: int) -> TrainingJob:
    job = session.get(TrainingJob, job_id)
    if job is None:
        raise NotFound(f"No training job with id {job_id}.", job_id=job_id)
    return job


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (datetime,)):
        return value.isoformat()
    return value


# --- audiences ----------------------------------------------------------------------------

def audience_preview(*, session: Session, campaign, top_n: int, by: str,
                     sample: int = 50) -> dict:
    """The campaign's eligible customers ranked by expected response (or uplift), top N."""
    from sqlalchemy.orm import aliased

    from crm_backend.campaigns import service as campaigns
    from crm_backend.customers.models import Customer

    condition = campaigns.audience_filter(campaign)
    eligible = session.scalar(select(func.count()).select_from(Customer).where(condition))
    resp, upl = aliased(CustomerScore), aliased(CustomerScore)
    key = resp.value if by == "response" else upl.value
    ranked = (select(Customer.id, Customer.name, Customer.email, resp.value.label("response"),
                     upl.value.label("uplift"))
              .outerjoin(resp, (resp.customer_id == Customer.id)
                         & (resp.name == "campaign_response"))
              .outerjoin(upl, (upl.customer_id == Customer.id)
                         & (upl.name == "campaign_uplift"))
              .where(condition).order_by(key.desc().nulls_last(), Customer.id).limit(top_n)
              .subquery())
    total_response, total_uplift, threshold, size = session.execute(
        select(func.coalesce(func.sum(ranked.c.response), 0.0),
               func.coalesce(func.sum(ranked.c.uplift), 0.0),
               func.min(ranked.c.response if by == "response" else ranked.c.uplift),
               func.count())).one()
    rows = session.execute(select(ranked).limit(sample)).all()
    narrowed = {"all": [campaign.audience or {},
                        {"field": f"score.campaign_{by}", "op": "gte",
                         "value": float(threshold) if threshold is not None else 0.0}]}
    return {"campaign_id": campaign.id, "ranked_by": by, "eligible": eligible, "top_n": size,
            "expected_responders": round(float(total_response), 3),
            "expected_incremental_responders": round(float(total_uplift), 3),
            "threshold": None if threshold is None else float(threshold),
            "audience_filter": narrowed,
            "customers": [{"customer_id": r.id, "name": r.name, "email": r.email,
                           "campaign_response": r.response, "campaign_uplift": r.uplift}
                          for r in rows]}
