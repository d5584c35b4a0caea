"""Held-out metrics and the curves the reports plot, shared by every classifier."""

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    roc_auc_score,
    roc_curve,
)


def _thin(values: np.ndarray, points: int = 60) -> list[float]:
    if len(values) <= points:
        return [round(float(v), 5) for v in values]
    idx = np.linspace(0, len(values) - 1, points).round().astype(int)
    return [round(float(v), 5) for v in values[idx]]


def binary_metrics(y_true, p, *, curves: bool = True) -> dict:
    """ROC AUC, PR AUC (average precision), Brier score, base rate; optionally the ROC and
    calibration curves, thinned to a few dozen points for storage and plots."""
    y_true, p = np.asarray(y_true), np.asarray(p)
    out = {"n": int(len(y_true)), "base_rate": round(float(y_true.mean()), 5)}
    if len(np.unique(y_true)) < 2:
        return out | {"roc_auc": None, "pr_auc": None, "brier": None}
    out |= {"roc_auc": round(float(roc_auc_score(y_true, p)), 5),
            "pr_auc": round(float(average_precision_score(y_true, p)), 5),
            "brier": round(float(brier_score_loss(y_true, p)), 5)}
    if curves:
        fpr, tpr, _ = roc_curve(y_true, p)
        prob_true, prob_pred = calibration_curve(y_true, p, n_bins=10, strategy="quantile")
        out["curves"] = {"roc": {"fpr": _thin(fpr), "tpr": _thin(tpr)},
                         "calibration": {"predicted": _thin(prob_pred),
                                         "observed": _thin(prob_true)}}
    return out
