"""`crm models ...`, `crm clv fit` and `crm rules mine`."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

models_app = typer.Typer(help="Scoring models: train, score, list, roll back, report.",
                         no_args_is_help=True)
clv_app = typer.Typer(help="Customer lifetime value on your own transactions.",
                      no_args_is_help=True)
rules_app = typer.Typer(help="Association rules on your own baskets.", no_args_is_help=True)

console = Console(stderr=True)
out = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout")]


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _emit_json(result: dict) -> None:
    sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")


@models_app.command("train")
def train(
    name: Annotated[str | None, typer.Argument(help="One model; default: all")] = None,
    horizon_days: Annotated[int | None, typer.Option(help="Churn horizon / holdout days")]
    = None,
    no_score: Annotated[bool, typer.Option("--no-score", help="Skip batch scoring")] = False,
    if_untrained: Annotated[bool, typer.Option(
        "--if-untrained", help="Do nothing if any model version exists")] = False,
    as_json: JsonOption = False,
):
    """Train, evaluate and register models, then batch-score every customer."""
    from sqlalchemy import select

    from crm_backend.core.db import get_sessionmaker
    from crm_backend.scoring import pipeline
    from crm_backend.scoring.models import ModelName, ModelVersion

    if name is not None and name not in ModelName.__members__:
        _fail(f"unknown model {name!r}; choose one of {', '.join(ModelName)}")
    if if_untrained:
        with get_sessionmaker()() as session:
            if session.scalar(select(ModelVersion.id).limit(1)) is not None:
                console.print("Models are trained already; nothing to do.")
                return
    with get_sessionmaker()() as session, Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("training", total=1.0)
        try:
            result = pipeline.train(
                session, [name] if name else None, horizon_days=horizon_days,
                score=not no_score,
                progress=lambda fraction, step: bar.update(task, completed=fraction,
                                                           description=step))
        except ValueError as exc:
            _fail(str(exc))
    if as_json:
        _emit_json(result)
        return
    table = Table("model", "version", "seconds", title=f"Trained as of {result['as_of']}")
    for model, info in result["models"].items():
        table.add_row(model, str(info["version"]), f"{info['seconds']:.1f}")
    out.print(table)
    if "scoring" in result:
        s = result["scoring"]
        out.print(f"Scored {s['customers']:,} customers ({s['scores_written']:,} scores) in "
                  f"{s['predict_s'] + s['write_s']:.1f} s.")


@models_app.command("score")
def score(as_json: JsonOption = False):
    """Batch-score every customer with the active models."""
    from crm_backend.core.db import get_sessionmaker
    from crm_backend.scoring import pipeline

    with get_sessionmaker()() as session:
        result = pipeline.score_all(session)
        session.commit()
    if as_json:
        _emit_json(result)
    else:
        out.print(f"Scored {result['customers']:,} customers ({result['scores_written']:,} "
                  f"scores): features {result['features_s']} s, predictions "
                  f"{result['predict_s']} s, writing {result['write_s']} s.")


@models_app.command("list")
def list_models(as_json: JsonOption = False):
    """Every model version with its headline held-out metric."""
    from sqlalchemy import select

    from crm_backend.core.db import get_sessionmaker
    from crm_backend.scoring.models import ModelVersion

    with get_sessionmaker()() as session:
        rows = list(session.scalars(select(ModelVersion).order_by(ModelVersion.name,
                                                                  ModelVersion.version)))
        data = [{"name": r.name, "version": r.version, "active": r.active,
                 "trained_at": r.trained_at.isoformat(), "seconds": r.training_seconds,
                 "headline": headline(r.name, r.metrics)} for r in rows]
    if as_json:
        _emit_json({"models": data})
        return
    table = Table("model", "version", "active", "trained", "seconds", "held-out result")
    for d in data:
        table.add_row(d["name"], str(d["version"]), "yes" if d["active"] else "",
                      d["trained_at"][:19], f"{d['seconds']:.1f}", d["headline"])
    out.print(table)


def headline(name: str, m: dict) -> str:
    """One line per model: its main held-out metric next to the baseline's."""
    try:
        if name in ("churn", "response"):
            return (f"ROC AUC {m['model']['roc_auc']} (RFM baseline "
                    f"{m['baseline_rfm']['roc_auc']}), Brier {m['model']['brier']}")
        if name == "clv":
            p = m["purchases"]
            return (f"purchases MAE {p['model']['mae']} (baseline "
                    f"{p['baseline_historical_rate']['mae']}), Spearman {p['model']['spearman']}")
        if name == "triage":
            return ", ".join(f"{t} acc {v['accuracy']} (majority "
                             f"{v['baseline_majority']['accuracy']})" for t, v in m.items())
        if name == "associations":
            return (f"hit@3 {m['hit_rate_at_3']} (popular {m['baseline_popular_hit_rate_at_3']}"
                    f"), {m['rules']} rules")
        if name == "clusters":
            return f"k = {m['k']}, silhouette {m['silhouette']}"
        if name == "segments":
            return f"{len(m['sizes_now'])} segments"
    except (KeyError, TypeError):
        pass
    return ""


@models_app.command("rollback")
def rollback(name: str, version: Annotated[int | None, typer.Option(
        help="Version to activate; default: the one before the active one")] = None):
    """Make an earlier version of a model the active one."""
    from crm_backend.core.db import get_sessionmaker
    from crm_backend.core.errors import AppError
    from crm_backend.scoring import service

    with get_sessionmaker()() as session:
        try:
            row = service.rollback(session=session, name=name, version=version)
        except AppError as exc:
            _fail(exc.message)
        session.commit()
        console.print(f"{row.name} version {row.version} is active; run `crm models score` to "
                      "rescore customers with it.")


@models_app.command("report")
def report(out_dir: Annotated[Path, typer.Option("--out", help="Directory to write to")]
           = Path("var/scoring-report")):
    """Write the figures (PNG) and an HTML page that shows them."""
    from crm_backend.core.db import get_sessionmaker
    from crm_backend.scoring import report as figures

    out_dir.mkdir(parents=True, exist_ok=True)
    with get_sessionmaker()() as session:
        pngs = figures.figures(session)
    for name, png in pngs.items():
        (out_dir / f"{name}.png").write_bytes(png)
    (out_dir / "index.html").write_text(figures.html_page(pngs, inline=False))
    console.print(f"Wrote {len(pngs)} figures and index.html to {out_dir}.")


@models_app.command("train-custom")
def train_custom(
    csv: Annotated[Path, typer.Option("--csv", help="Labelled table, one row per customer")],
    target: Annotated[str, typer.Option(help="Column to predict (two values)")],
    folds: Annotated[int, typer.Option(min=2, max=20)] = 5,
    as_json: JsonOption = False,
):
    """Train a classifier on your own table and report cross-validated ROC AUC."""
    from crm_backend.scoring.custom import DataFileError, train_custom

    try:
        result = train_custom(csv, target, folds=folds)
    except DataFileError as exc:
        _fail(str(exc))
    if as_json:
        _emit_json(result)
        return
    out.print(f"{result['rows']:,} rows; target {target!r} (positive {result['positive_class']!r}"
              f", rate {result['positive_rate']:.1%})")
    out.print(f"numeric: {', '.join(result['numeric_columns']) or '-'}")
    out.print(f"categorical: {', '.join(result['categorical_columns']) or '-'}")
    if result["dropped_columns"]:
        out.print(f"dropped (identifiers, empty): {', '.join(result['dropped_columns'])}")
    out.print(f"{result['cv_folds']}-fold cross-validated ROC AUC: "
              f"{result['roc_auc_mean']:.3f} ± {result['roc_auc_std']:.3f}")


@clv_app.command("fit")
def clv_fit(
    transactions: Annotated[Path, typer.Option(
        "--transactions", help="CSV with customer_id, date, amount")],
    horizon_weeks: Annotated[float, typer.Option(min=1, max=520)] = 52,
    top: Annotated[int, typer.Option(min=0, max=1000)] = 10,
    as_json: JsonOption = False,
):
    """Fit BG/NBD and Gamma-Gamma; report parameters and predicted values."""
    from crm_backend.scoring.custom import DataFileError, fit_clv

    try:
        result = fit_clv(transactions, horizon_weeks=horizon_weeks, top=top)
    except DataFileError as exc:
        _fail(str(exc))
    if as_json:
        _emit_json(result)
        return
    b, g = result["bgnbd"], result["gamma_gamma"]
    out.print(f"{result['transactions']:,} transactions, {result['customers']:,} customers")
    out.print(f"BG/NBD: r={b['r']:.4g} alpha={b['alpha']:.4g} a={b['a']:.4g} b={b['b']:.4g} "
              f"(log-likelihood {b['log_likelihood']:.1f})")
    out.print(f"Gamma-Gamma: p={g['p']:.4g} q={g['q']:.4g} v={g['v']:.4g}")
    out.print(f"Next {horizon_weeks:g} weeks: {result['predicted_purchases_total']:,.1f} "
              f"purchases, value {result['predicted_clv_total']:,.2f}")
    table = Table("customer", "repeat purchases", "expected purchases", "P(alive)", "CLV")
    for c in result["top_customers"]:
        table.add_row(c["customer_id"], f"{c['x']:.0f}", f"{c['purchases']:.2f}",
                      f"{c['p_alive']:.2f}", f"{c['clv']:,.2f}")
    out.print(table)


@rules_app.command("mine")
def rules_mine(
    baskets: Annotated[Path, typer.Option("--baskets", help="CSV with basket_id, item")],
    min_support: Annotated[float, typer.Option(help="e.g. 0.01")] = 0.01,
    min_confidence: Annotated[float, typer.Option(help="e.g. 0.2")] = 0.2,
    top: Annotated[int, typer.Option(min=0, max=1000)] = 20,
    as_json: JsonOption = False,
):
    """Frequent itemsets (FP-growth) and association rules."""
    from crm_backend.scoring.custom import DataFileError, mine_rules

    try:
        result = mine_rules(baskets, min_support=min_support, min_confidence=min_confidence,
                            top=top)
    except DataFileError as exc:
        _fail(str(exc))
    if as_json:
        _emit_json(result)
        return
    out.print(f"{result['baskets']:,} baskets, {result['items']:,} items: "
              f"{result['frequent_itemsets']:,} frequent itemsets, {result['rules']:,} rules")
    table = Table("if bought", "then also", "support", "confidence", "lift")
    for r in result["top_rules"]:
        table.add_row(", ".join(map(str, r["antecedents"])),
                      ", ".join(map(str, r["consequents"])), f"{r['support']:.4f}",
                      f"{r['confidence']:.3f}", f"{r['lift']:.2f}")
    out.print(table)
