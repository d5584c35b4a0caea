from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import HTMLResponse, Response

from crm_backend.auth.deps import CurrentPrincipal, SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.campaigns import service as campaigns
from crm_backend.core.errors import NotFound
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.core.schemas import PathId
from crm_backend.products import service as products
from crm_backend.scoring import associations, jobs, report, segments, service
from crm_backend.scoring.models import ModelName, ModelVersion, TrainingJob
from crm_backend.scoring.schemas import (
    AudiencePreview,
    BoughtTogetherOut,
    JobCreate,
    JobOut,
    ModelVersionOut,
    RollbackIn,
    SegmentSummary,
    TriageIn,
    TriageOut,
)

router = APIRouter(prefix="/scoring", tags=["scoring"])
products_router = APIRouter(prefix="/products", tags=["products"])
READ = require(Permission.reports_read)
TRAIN = require(Permission.models_train)


@router.get("/models", response_model=Page[ModelVersionOut], dependencies=[READ])
def list_models(session: SessionDep, params: Pages(
        {"trained_at": ModelVersion.trained_at, "name": ModelVersion.name,
         "version": ModelVersion.version}, ["name", "-version"]),
        name: ModelName | None = None, active: bool | None = None):
    """Every trained model version with its parameters, training-data statistics and held-out
    metrics (next to its baseline's)."""
    return paginate(session, service.list_query(name=name, active_only=active), params,
                    tiebreaker=ModelVersion.id)


@router.get("/models/{model_id}", response_model=ModelVersionOut, dependencies=[READ])
def get_model(model_id: PathId, session: SessionDep):
    return service.get(session=session, model_id=model_id)


@router.post("/models/{name}/rollback", response_model=ModelVersionOut, dependencies=[TRAIN],
             responses={409: {"description": "No earlier version to roll back to"}})
def rollback(name: ModelName, body: RollbackIn, session: SessionDep):
    """Make an earlier version the active one (default: the version before the active one).
    Stored customer scores change at the next batch scoring."""
    row = service.rollback(session=session, name=name, version=body.version)
    session.commit()
    return row


@router.post("/jobs", response_model=JobOut, status_code=202, dependencies=[TRAIN],
             responses={409: {"description": "A training job is already running"}})
def start_job(body: JobCreate, session: SessionDep, principal: CurrentPrincipal,
              background: BackgroundTasks):
    """Train the given models (default: all) and batch-score every customer, in the
    background; poll the job for progress."""
    job = service.create_job(session=session, models=[m.value for m in body.models],
                             created_by=principal.ref)
    session.commit()
    background.add_task(jobs.run, job.id)
    return job


@router.get("/jobs", response_model=Page[JobOut], dependencies=[READ])
def list_jobs(session: SessionDep, params: Pages({"created_at": TrainingJob.created_at},
                                                 ["-created_at"])):
    from sqlalchemy import select

    return paginate(session, select(TrainingJob), params, tiebreaker=TrainingJob.id)


@router.get("/jobs/{job_id}", response_model=JobOut, dependencies=[READ])
def get_job(job_id: PathId, session: SessionDep):
    return service.get_job(session=session, job_id=job_id)


@router.get("/segments", response_model=list[SegmentSummary], dependencies=[READ])
def segment_summary(session: SessionDep):
    """Customers, mean and total CLV and mean churn risk per RFM segment."""
    return [row | {"description": segments.DESCRIPTIONS.get(row["segment"])}
            for row in service.segment_summary(session=session)]


@router.get("/campaigns/{campaign_id}/audience", response_model=AudiencePreview,
            dependencies=[require(Permission.campaigns_read)])
def audience(campaign_id: PathId, session: SessionDep,
             top_n: Annotated[int, Query(ge=1, le=1_000_000)] = 1000,
             by: Literal["response", "uplift"] = "response",
             sample: Annotated[int, Query(ge=0, le=200)] = 50):
    """The campaign's eligible customers ranked by expected response (or by uplift over the
    control group): how many respond among the top N, and the audience filter that selects
    them."""
    campaign = campaigns.get(session=session, campaign_id=campaign_id)
    return service.audience_preview(session=session, campaign=campaign, top_n=top_n, by=by,
                                    sample=sample)


@router.post("/triage", response_model=TriageOut,
             dependencies=[require(Permission.tickets_read)])
def triage(body: TriageIn, session: SessionDep):
    """Category, priority and sentiment the triage model predicts for a text."""
    model, row = service.load(session=session, name=ModelName.triage)
    if model is None:
        return {"model_version": None, "category": None, "priority": None, "sentiment": None,
                "confidence": {}}
    p = model.predict([body.text])
    return {"model_version": row.tag, **{t: p.get(t, [None])[0]
                                        for t in ("category", "priority", "sentiment")},
            "confidence": {t: p[f"{t}_confidence"][0] for t in ("category", "priority",
                                                                "sentiment") if t in p}}


@router.get("/report", dependencies=[READ], response_class=Response,
            responses={200: {"content": {"text/html": {}}, "description": "The page"}})
def report_page(session: SessionDep):
    """An HTML page with every figure (ROC and calibration curves, segments, clusters,
    campaign lift, triage confusion matrix) embedded."""
    return HTMLResponse(report.html_page(report.figures(session), inline=True))


@router.get("/report/{figure}.png", dependencies=[READ], response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "The figure"}})
def report_figure(figure: Literal[report.FIGURE_NAMES], session: SessionDep):  # type: ignore
    png = report.figures(session, only=[figure]).get(figure)
    if png is None:
        raise NotFound(f"No data for the {figure} figure yet; train the models first.")
    return Response(png, media_type="image/png")


@products_router.get("/{product_id}/frequently-bought-together",
                     response_model=BoughtTogetherOut,
                     dependencies=[require(Permission.products_read)])
def bought_together(product_id: PathId, session: SessionDep,
                    limit: Annotated[int, Query(ge=1, le=20)] = 5):
    """Products most often bought with this one (association rules from order baskets)."""
    products.get(session=session, product_id=product_id)
    model, row = service.load(session=session, name=ModelName.associations)
    rules = associations.recommend(model["rules"], product_id, limit) if model else []
    items = []
    for rule in rules:
        other = products.get(session=session, product_id=rule["consequents"][0])
        items.append({"product_id": other.id, "sku": other.sku, "name": other.name,
                      "confidence": rule["confidence"], "lift": rule["lift"],
                      "support": rule["support"]})
    return {"product_id": product_id, "model_version": row.tag if row else None,
            "items": items}
