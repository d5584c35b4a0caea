"""Figures of the scoring models (PNG, matplotlib's Agg backend) and an HTML page with them:
ROC and calibration curves, segment sizes and value, cluster profiles, campaign lift and the
triage confusion matrix. The API serves the page with the figures embedded; `crm models
report` writes the PNG files and a page that links them."""

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import EngFormatter  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crm_backend.campaigns.models import Campaign  # noqa: E402
from crm_backend.reports import service as reports  # noqa: E402
from crm_backend.scoring import service  # noqa: E402
from crm_backend.scoring.models import ModelName  # noqa: E402

FIGURE_NAMES = ("roc", "calibration", "segments", "clusters", "campaign_lift",
                "triage_confusion")
TITLES = {"roc": "ROC curves on held-out data", "calibration": "Churn risk calibration",
          "segments": "RFM segments: size and value", "clusters": "Behavioural clusters",
          "campaign_lift": "Campaign conversion: treated against control",
          "triage_confusion": "Ticket triage: confusion matrix (held-out tickets)"}


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _metrics(session: Session, name: str) -> dict | None:
    row = service.active(session=session, name=name)
    return row.metrics if row else None


def _roc(session: Session) -> bytes | None:
    curves = []
    for name, label in ((ModelName.churn, "churn"), (ModelName.response, "campaign response")):
        m = _metrics(session, name)
        if not m:
            continue
        for key, kind in (("model", "model"), ("baseline_rfm", "RFM baseline")):
            c = m.get(key, {}).get("curves")
            if c:
                curves.append((f"{label}, {kind} (AUC {m[key]['roc_auc']:.3f})", c["roc"]))
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(6, 5))
    for label, roc in curves:
        ax.plot(roc["fpr"], roc["tpr"], label=label)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=TITLES["roc"])
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def _calibration(session: Session) -> bytes | None:
    m = _metrics(session, ModelName.churn)
    if not m:
        return None
    fig, ax = plt.subplots(figsize=(5, 5))
    for key, label in (("model", "model"), ("baseline_rfm", "RFM baseline")):
        c = m.get(key, {}).get("curves")
        if c:
            ax.plot(c["calibration"]["predicted"], c["calibration"]["observed"], marker="o",
                    label=f"{label} (Brier {m[key]['brier']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    ax.set(xlabel="predicted churn probability", ylabel="observed churn rate",
           title=TITLES["calibration"])
    ax.legend(fontsize=8)
    return _png(fig)


def _segments(session: Session) -> bytes | None:
    rows = service.segment_summary(session=session)
    if not rows:
        return None
    names = [r["segment"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    a1.barh(names, [r["customers"] for r in rows])
    a1.set(title="customers", xlabel="customers")
    a2.barh(names, [r["total_clv"] or 0 for r in rows], color="tab:green")
    a2.set(title="total predicted CLV (52 weeks)", xlabel="CLV")
    for ax in (a1, a2):
        ax.xaxis.set_major_formatter(EngFormatter())
        ax.tick_params(axis="x", labelsize=8)
    a1.invert_yaxis()
    a2.invert_yaxis()
    fig.suptitle(TITLES["segments"])
    return _png(fig)


def _clusters(session: Session) -> bytes | None:
    m = _metrics(session, ModelName.clusters)
    if not m:
        return None
    profiles = m["profiles"]
    columns = [c for c in profiles[0] if c not in ("cluster", "size")]
    values = np.array([[p[c] for c in columns] for p in profiles], dtype=float)
    # Each column relative to its mean over clusters, so different units compare.
    relative = values / np.where(values.mean(axis=0) == 0, 1, values.mean(axis=0))
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.6 * len(profiles)))
    image = ax.imshow(relative, cmap="coolwarm", aspect="auto", vmin=0, vmax=2)
    ax.set_xticks(range(len(columns)), columns, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(profiles)),
                  [f"{p['cluster']} ({p['size']:,})" for p in profiles], fontsize=8)
    for i in range(len(profiles)):
        for j in range(len(columns)):
            ax.text(j, i, f"{values[i, j]:.3g}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label="relative to the mean of clusters")
    ax.set_title(f"{TITLES['clusters']} (k = {m['k']} by silhouette {m['silhouette']:.3f})")
    return _png(fig)


def _campaign_lift(session: Session) -> bytes | None:
    campaigns = list(session.scalars(select(Campaign).order_by(Campaign.starts_at)))
    stats = [s for s in reports.campaign_stats(session=session, campaigns=campaigns)
             if s["treatment"]]
    if not stats:
        return None
    x = np.arange(len(stats))
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar(x - 0.2, [s["conversion_rate"] or 0 for s in stats], 0.4, label="treated")
    ax.bar(x + 0.2, [s["control_conversion_rate"] or 0 for s in stats], 0.4, label="control")
    ax.set_xticks(x, [s["name"] for s in stats], rotation=20, ha="right", fontsize=8)
    for i, s in enumerate(stats):
        if s["absolute_lift"] is not None:
            ax.annotate(f"lift {s['absolute_lift']:+.3f}", (i, max(s["conversion_rate"] or 0,
                        s["control_conversion_rate"] or 0)), ha="center", va="bottom",
                        fontsize=7)
    ax.set(ylabel="conversion rate", title=TITLES["campaign_lift"])
    ax.legend()
    return _png(fig)


def _triage(session: Session) -> bytes | None:
    m = _metrics(session, ModelName.triage)
    if not m:
        return None
    targets = [t for t in ("category", "priority", "sentiment") if t in m]
    fig, axes = plt.subplots(1, len(targets), figsize=(6 * len(targets), 5.5))
    for ax, target in zip(np.atleast_1d(axes), targets, strict=True):
        cm = np.array(m[target]["confusion_matrix"])
        labels = m[target]["labels"]
        ax.imshow(cm, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7)
        ax.set(xlabel="predicted", ylabel="true",
               title=f"{target}: accuracy {m[target]['accuracy']:.3f}")
    fig.suptitle(TITLES["triage_confusion"])
    return _png(fig)


BUILDERS = {"roc": _roc, "calibration": _calibration, "segments": _segments,
            "clusters": _clusters, "campaign_lift": _campaign_lift, "triage_confusion": _triage}


def figures(session: Session, only: list[str] | None = None) -> dict[str, bytes]:
    out = {}
    for name in only or FIGURE_NAMES:
        png = BUILDERS[name](session)
        if png is not None:
            out[name] = png
    return out


def html_page(pngs: dict[str, bytes], *, inline: bool) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Scoring report</title>"
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
             "img{max-width:100%}</style></head><body><h1>Scoring report</h1>"]
    if not pngs:
        parts.append("<p>No trained models yet: run <code>crm models train</code>.</p>")
    for name, png in pngs.items():
        src = (f"data:image/png;base64,{base64.b64encode(png).decode()}" if inline
               else f"{name}.png")
        parts.append(f"<h2>{html.escape(TITLES[name])}</h2><img alt='{name}' src='{src}'>")
    parts.append("</body></html>")
    return "\n".join(parts)
