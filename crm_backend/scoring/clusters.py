"""Behavioural clusters: k-means on standardised, log-scaled behaviour of customers who bought.

k is chosen by the mean silhouette coefficient (higher is better) over k = 2..8, measured on
a fixed sample; the chosen k and every k's silhouette are stored with the model.
"""

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

COLUMNS = ["recency_days", "frequency", "monetary", "aov", "return_rate", "tickets",
           "campaign_response_rate", "days_since_last_contact"]
K_RANGE = range(2, 9)
FIT_ROWS = 50_000
SILHOUETTE_ROWS = 5_000


class ClusterModel:
    def __init__(self, scaler: StandardScaler, kmeans: KMeans, profiles: list[dict]):
        self.scaler, self.kmeans, self.profiles = scaler, kmeans, profiles

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.kmeans.predict(self.scaler.transform(_matrix(features)))


def _matrix(features: pd.DataFrame) -> np.ndarray:
    return np.log1p(features[COLUMNS].clip(lower=0).to_numpy(dtype=float))


def fit(features: pd.DataFrame, seed: int = 0) -> tuple[ClusterModel, dict]:
    buyers = features[features["frequency"] > 0]
    if len(buyers) < 20:
        raise ValueError("clustering needs at least 20 customers who bought")
    sample = buyers.sample(min(FIT_ROWS, len(buyers)), random_state=seed)
    scaler = StandardScaler().fit(_matrix(sample))
    x = scaler.transform(_matrix(sample))
    rng = np.random.default_rng(seed)
    probe = rng.choice(len(x), min(SILHOUETTE_ROWS, len(x)), replace=False)
    silhouettes, fitted = {}, {}
    for k in K_RANGE:
        if k >= len(probe):
            break
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(x)
        silhouettes[k] = float(silhouette_score(x[probe], km.labels_[probe]))
        fitted[k] = km
    best = max(silhouettes, key=silhouettes.get)
    km = fitted[best]
    labels = km.predict(scaler.transform(_matrix(buyers)))
    profiles = []
    for c in range(best):
        part = buyers[labels == c]
        profiles.append({"cluster": f"cluster_{c + 1}", "size": int(len(part)),
                         **{col: round(float(part[col].mean()), 3) for col in COLUMNS}})
    metrics = {"k": best, "criterion": "silhouette",
               "silhouette_by_k": {str(k): round(v, 4) for k, v in silhouettes.items()},
               "silhouette": round(silhouettes[best], 4), "profiles": profiles}
    return ClusterModel(scaler, km, profiles), metrics
