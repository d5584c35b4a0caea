"""Churn risk: the calibrated probability that a customer who has bought before places no
order in the next N days.

Time-based split, no leakage: the model learns from features as of `as_of - 2N` with labels
from (as_of - 2N, as_of - N], and is tested on features as of `as_of - N` with labels from
(as_of - N, as_of]; every feature only sees events before its snapshot (features.py). An
RFM-only logistic regression is trained and tested on the same rows as the baseline. Scoring
uses features as of `as_of`.
"""

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from crm_backend.scoring.evaluate import binary_metrics
from crm_backend.scoring.features import FEATURES, RFM

MAX_TRAIN_ROWS = 300_000


def population(features: pd.DataFrame) -> pd.DataFrame:
    """Customers churn can apply to: those who bought at least once."""
    return features[features["frequency"] > 0]


def gradient_boosting(seed: int = 0):
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                          min_samples_leaf=40, l2_regularization=1.0,
                                          random_state=seed)


def log_features(x):
    """log(1 + x) of non-negative features; missing values (no CSAT yet) become 0."""
    return np.log1p(np.clip(np.nan_to_num(np.asarray(x, dtype=float)), 0, None))


def linear(c: float = 0.3):
    return make_pipeline(FunctionTransformer(log_features), StandardScaler(),
                         LogisticRegression(max_iter=2000, C=c))


def blend(seed: int = 0):
    """Soft vote of gradient boosting (interactions, thresholds) and a linear model on log
    features (smooth, steady on small data)."""
    return VotingClassifier([("gbm", gradient_boosting(seed)), ("linear", linear())],
                            voting="soft")


def rfm_baseline():
    return make_pipeline(FunctionTransformer(np.log1p), StandardScaler(),
                         LogisticRegression(max_iter=1000))


def fit(train: pd.DataFrame, y: pd.Series, seed: int = 0):
    """The blend, calibrated on cross-validated folds (isotonic regression; Platt scaling
    below 2,000 rows, where isotonic steps overfit); and the RFM-only baseline."""
    if len(train) > MAX_TRAIN_ROWS:
        keep = train.sample(MAX_TRAIN_ROWS, random_state=seed).index
        train, y = train.loc[keep], y.loc[keep]
    method = "isotonic" if len(train) >= 2000 else "sigmoid"
    model = CalibratedClassifierCV(blend(seed), method=method, cv=3)
    model.fit(train[FEATURES].to_numpy(), y.to_numpy())
    baseline = rfm_baseline().fit(train[RFM].to_numpy(), y.to_numpy())
    return model, baseline


def evaluate(model, baseline, test: pd.DataFrame, y: pd.Series) -> dict:
    p = model.predict_proba(test[FEATURES].to_numpy())[:, 1]
    p0 = baseline.predict_proba(test[RFM].to_numpy())[:, 1]
    return {"model": binary_metrics(y, p), "baseline_rfm": binary_metrics(y, p0)}


def predict(model, features: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(features[FEATURES].to_numpy())[:, 1]
