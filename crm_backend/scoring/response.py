"""Campaign response: the probability that a treated customer converts, and the uplift over
holding them back, from behaviour before the campaign started.

Training rows are past campaign contacts, each with features as of its campaign's start
(only the contacted customers' rows are computed). Time-based split: the latest campaign is
held out and the earlier ones train. The treated model gives the expected response; a second
model on the control contacts gives the response without treatment, and their difference is
the uplift (a two-model learner). An RFM-only logistic regression is the baseline.
"""


import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.campaigns.models import Campaign, CampaignContact
from crm_backend.scoring import features as feats
from crm_backend.scoring.churn import rfm_baseline
from crm_backend.scoring.evaluate import binary_metrics
from crm_backend.scoring.features import FEATURES, RFM


def contacts_with_features(session: Session, progress=lambda step: None) -> pd.DataFrame:
    """Every campaign contact with its customer's features as of the campaign's start."""
    frames = []
    campaigns = list(session.scalars(select(Campaign).order_by(Campaign.starts_at)))
    for campaign in campaigns:
        who = select(CampaignContact.customer_id).where(
            CampaignContact.campaign_id == campaign.id)
        contacts = pd.DataFrame(session.execute(
            select(CampaignContact.customer_id, CampaignContact.is_control,
                   CampaignContact.converted_at.is_not(None))
            .where(CampaignContact.campaign_id == campaign.id)).fetchall(),
            columns=["customer_id", "is_control", "converted"])
        if contacts.empty:
            continue
        progress(f"features at the start of {campaign.name!r}")
        f = feats.compute(session, campaign.starts_at, customers=who)
        joined = contacts.set_index("customer_id").join(f, how="inner")
        joined["campaign_id"] = campaign.id
        joined["starts_at"] = campaign.starts_at
        frames.append(joined)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames)


def _gbm(seed: int):
    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.06, max_leaf_nodes=15,
                                          l2_regularization=1.0, random_state=seed)


class ResponseModel:
    def __init__(self, treated, control):
        self.treated, self.control = treated, control

    def predict(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        x = features[FEATURES].to_numpy()
        p = self.treated.predict_proba(x)[:, 1]
        uplift = p - self.control.predict_proba(x)[:, 1] if self.control is not None else p * 0
        return {"response": p, "uplift": uplift}


def split(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Train on every campaign but the latest with contacts; test on that one."""
    last = rows.sort_values("starts_at")["campaign_id"].iloc[-1]
    return rows[rows["campaign_id"] != last], rows[rows["campaign_id"] == last], int(last)


MAX_TRAIN_ROWS = 300_000


def fit(rows: pd.DataFrame, seed: int = 0) -> ResponseModel:
    treated = rows[~rows["is_control"]]
    if len(treated) > MAX_TRAIN_ROWS:
        treated = treated.sample(MAX_TRAIN_ROWS, random_state=seed)
    control = rows[rows["is_control"]]
    if treated["converted"].nunique() < 2:
        raise ValueError("campaign response needs treated contacts who did and did not convert")
    t_model = _gbm(seed).fit(treated[FEATURES].to_numpy(), treated["converted"].to_numpy())
    c_model = None
    if len(control) >= 50 and control["converted"].nunique() == 2:
        # Few control conversions: a regularised linear model is steadier than trees here.
        c_model = LogisticRegression(max_iter=1000, C=0.5).fit(
            np.log1p(control[FEATURES].fillna(0).clip(lower=0).to_numpy()),
            control["converted"].to_numpy())
        c_model = _LogScaled(c_model)
    return ResponseModel(t_model, c_model)


class _LogScaled:
    def __init__(self, model):
        self.model = model

    def predict_proba(self, x):
        x = np.nan_to_num(np.asarray(x, dtype=float))
        return self.model.predict_proba(np.log1p(np.clip(x, 0, None)))


def evaluate(model: ResponseModel, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    treated_train = train[~train["is_control"]]
    baseline = rfm_baseline().fit(treated_train[RFM].to_numpy(),
                                  treated_train["converted"].to_numpy())
    t = test[~test["is_control"]]
    scores = model.predict(t)
    out = {"model": binary_metrics(t["converted"], scores["response"]),
           "baseline_rfm": binary_metrics(t["converted"],
                                          baseline.predict_proba(t[RFM].to_numpy())[:, 1])}
    # Uplift check: conversion lift (treated minus control) among the top 30 % by uplift
    # against the lift over everyone in the held-out campaign.
    u = model.predict(test)["uplift"]
    top = u >= np.quantile(u, 0.7)

    def lift(mask):
        part = test[mask]
        tr, co = part[~part["is_control"]], part[part["is_control"]]
        if tr.empty or co.empty:
            return None
        return round(float(tr["converted"].mean() - co["converted"].mean()), 5)

    out["uplift"] = {"lift_top30": lift(top), "lift_all": lift(np.ones(len(test), bool))}
    return out


