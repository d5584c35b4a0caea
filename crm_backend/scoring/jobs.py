"""Training jobs: run `pipeline.train` outside the request, recording progress on the job row,
and the optional schedule that starts one every `CRM_SCORING_INTERVAL_HOURS`."""

import logging
import threading
from contextlib import asynccontextmanager

from crm_backend.core.config import get_settings
from crm_backend.core.db import get_sessionmaker, utcnow
from crm_backend.core.errors import Conflict
from crm_backend.scoring import service
from crm_backend.scoring.models import JobStatus, TrainingJob

log = logging.getLogger(__name__)


def _update(job_id: int, **values) -> None:
    with get_sessionmaker()() as session:
        job = session.get(TrainingJob, job_id)
        for key, value in values.items():
            setattr(job, key, value)
        session.commit()


def run(job_id: int) -> None:
    """Run a queued job to the end; never raises (the error is stored on the job)."""
    with get_sessionmaker()() as session:
        job = session.get(TrainingJob, job_id)
        names = list(job.models) or None
    _update(job_id, status=JobStatus.running, started_at=utcnow(), step="starting")
    # The model libraries take seconds to import; only a training run needs them.
    from crm_backend.scoring import pipeline

    try:
        with get_sessionmaker()() as session:
            session.info["actor"] = f"job:{job_id}"
            result = pipeline.train(session, names, progress=lambda fraction, step: _update(
                job_id, progress=round(fraction, 3), step=step[:200]))
        _update(job_id, status=JobStatus.succeeded, progress=1.0, step="done",
                result=service._jsonable(result), finished_at=utcnow())
    except Exception as exc:  # noqa: BLE001  (reported on the job, not lost in a thread)
        log.exception("training job %s failed", job_id)
        _update(job_id, status=JobStatus.failed, error=f"{type(exc).__name__}: {exc}"[:2000],
                finished_at=utcnow())


def start_scheduled() -> int | None:
    """Queue and run one job for every model, unless one is already running."""
    with get_sessionmaker()() as session:
        try:
            job = service.create_job(session=session, models=[], created_by="schedule")
        except Conflict:
            return None
        session.commit()
        job_id = job.id
    run(job_id)
    return job_id


@asynccontextmanager
async def lifespan(_app):
    """The app's lifespan: with CRM_SCORING_INTERVAL_HOURS > 0, retrain and rescore in a
    background thread at that interval (the first run one interval after start)."""
    hours = get_settings().scoring_interval_hours
    stop = threading.Event()
    thread = None
    if hours > 0:
        def loop():
            while not stop.wait(hours * 3600):
                start_scheduled()

        thread = threading.Thread(target=loop, name="scoring-schedule", daemon=True)
        thread.start()
    yield
    stop.set()
    if thread is not None:
        # Let a short run finish; a long one is abandoned (daemon) and its job stays
        # "running" with the step it reached.
        thread.join(timeout=5)
