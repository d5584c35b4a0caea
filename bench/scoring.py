"""Scoring at scale on PostgreSQL: feature computation, training time per model, batch scoring
of every customer, and each model's held-out metrics next to its baseline.

    .venv/bin/python bench/scoring.py --database scoring_bench     # a database seeded with
                                                                     # crm seed --customers 1000000
                                                                     #   --orders 10000000

The database must already hold the seeded data (seeding is measured by bench/run.py); this
script migrates it, then (1) computes features of every customer as of the data's end, (2)
trains and registers every model, (3) batch-scores every customer and stores the scores.
Results go to bench/results/scoring-<timestamp>.json and are printed as Markdown.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="scoring_bench")
    parser.add_argument("--skip-train", action="store_true",
                        help="Only features and scoring, with the models already registered")
    parser.add_argument("--traits-only", action="store_true",
                        help="Only compare the stored scores with the seed's hidden traits")
    parser.add_argument("--seed", type=int, default=42, help="Seed the database was made with")
    args = parser.parse_args()
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{args.database}"
    os.environ["CRM_DATABASE_URL"] = url
    sys.path.insert(0, str(ROOT))
    subprocess.run([sys.executable, "-m", "crm_backend.cli", "db", "upgrade"], cwd=ROOT,
                   check=True, env=os.environ)

    from sqlalchemy import func, select

    from crm_backend.core.db import get_sessionmaker
    from crm_backend.customers.models import Customer
    from crm_backend.orders.models import Order
    from crm_backend.scoring import features, pipeline, service
    from crm_backend.scoring.cli import headline
    from crm_backend.scoring.models import ModelVersion

    results: dict = {"database": args.database, "started": datetime.now(UTC).isoformat()}
    if args.traits_only:
        with get_sessionmaker()() as session:
            results["trait_recovery"] = trait_recovery(session, args.seed)
        print(json.dumps(results["trait_recovery"], indent=2))
        return
    with get_sessionmaker()() as session:
        results["customers"] = session.scalar(select(func.count()).select_from(Customer))
        results["orders"] = session.scalar(select(func.count()).select_from(Order))
        as_of = service.data_end(session)
        results["as_of"] = as_of.isoformat()
        started = time.perf_counter()
        frame = features.compute(session, as_of)
        results["features_s"] = round(time.perf_counter() - started, 1)
        results["feature_rows"] = len(frame)
        session.rollback()
        del frame
        print(f"features: {results['features_s']} s for {results['feature_rows']:,} customers",
              flush=True)

        if not args.skip_train:
            started = time.perf_counter()
            trained = pipeline.train(session, score=False, progress=lambda f, step: print(
                f"  {f:4.0%} {step} ({time.perf_counter() - started:.0f} s)", flush=True))
            results["training_total_s"] = round(time.perf_counter() - started, 1)
            results["training"] = trained

        started = time.perf_counter()
        scored = pipeline.score_all(session, as_of=as_of)
        session.commit()
        results["scoring_total_s"] = round(time.perf_counter() - started, 1)
        results["scoring"] = scored
        print(f"scoring: {scored}", flush=True)
        results["models"] = {
            row.name: {"version": row.version, "training_seconds": row.training_seconds,
                       "metrics": _strip_curves(row.metrics), "data_stats": row.data_stats,
                       "params": row.params, "headline": headline(row.name, row.metrics)}
            for row in session.scalars(select(ModelVersion).where(ModelVersion.active))}
        results["trait_recovery"] = trait_recovery(session, args.seed)

    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"scoring-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwrote {path}\n")
    print("| model | training s | held-out result |\n|---|---|---|")
    for name, m in results["models"].items():
        print(f"| {name} | {m['training_seconds']:.1f} | {m['headline']} |")
    s = results["scoring"]
    print(f"\nfeatures (1 snapshot): {results['features_s']} s; batch scoring: features "
          f"{s['features_s']} s + predictions {s['predict_s']} s + writing {s['write_s']} s "
          f"({s['scores_written']:,} scores) + ticket escalation {s['escalation_s']} s")


def trait_recovery(session, seed: int) -> dict:
    """Spearman correlation of stored scores with the hidden traits `crm seed` drew (and
    never stored): what the models recover of the truth behind the data."""
    import numpy as np
    import pandas as pd
    from scipy.stats import spearmanr
    from sqlalchemy import func, select

    from crm_backend.customers.models import Customer, CustomerScore
    from crm_backend.seed.generate import CHUNK
    from crm_backend.seed.traits import draw_traits

    n = session.scalar(select(func.max(Customer.id)))
    parts = []
    for chunk, start in enumerate(range(0, n, CHUNK)):
        t = draw_traits(seed, chunk, min(CHUNK, n - start))
        parts.append(pd.DataFrame({"churn": t.churn, "value": t.value,
                                   "responsiveness": t.responsiveness,
                                   "loyalty": t.loyalty},
                                  index=np.arange(start + 1, start + 1 + len(t))))
    traits = pd.concat(parts)
    out = {}
    for score, trait in (("churn_risk", "churn"), ("clv", "value"),
                         ("campaign_response", "responsiveness"), ("campaign_uplift",
                                                                   "responsiveness")):
        rows = session.execute(select(CustomerScore.customer_id, CustomerScore.value)
                               .where(CustomerScore.name == score)).all()
        values = pd.Series(dict(rows), dtype=float).dropna()
        joined = traits.loc[values.index, trait]
        out[f"{score}~{trait}"] = {"customers": int(len(values)), "spearman": round(float(
            spearmanr(values.to_numpy(), joined.to_numpy()).statistic), 4)}
    return out


def _strip_curves(value):
    if isinstance(value, dict):
        return {k: _strip_curves(v) for k, v in value.items() if k != "curves"}
    return value


if __name__ == "__main__":
    main()
