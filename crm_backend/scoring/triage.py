"""Ticket triage: category, priority and sentiment from the ticket's text.

Text is tokenised by a blank spaCy English pipeline (rules only: no pretrained weights are
needed or downloaded), then TF-IDF over words and word pairs feeds one logistic regression
per target, all trained by this project on its own tickets:

- category and priority: learnt from the labels agents gave stored tickets;
- sentiment (negative, neutral, positive): tickets carry no sentiment label, so it is learnt
  from the customer's CSAT answer on resolved tickets (1-2 negative, 3 neutral, 4-5
  positive), a distant label for the mood of the text.

Training and evaluation use the ticket's first message only; the subject of stored tickets
often names its category (it is written from it) and would leak the answer. Held-out tickets
are the newest 20 %. Baselines: the most frequent class.
"""

from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.tickets.models import AuthorKind, Ticket, TicketMessage

MAX_TRAIN_TICKETS = 60_000
TARGETS = ("category", "priority", "sentiment")
SENTIMENTS = ("negative", "neutral", "positive")


@lru_cache
def _tokenizer():
    import spacy

    return spacy.blank("en").tokenizer


def tokenize(text: str) -> list[str]:
    """Lower-cased words; numbers and order/ticket numbers become placeholders."""
    out = []
    for token in _tokenizer()(text):
        if token.is_punct or token.is_space:
            continue
        if token.like_num or any(ch.isdigit() for ch in token.text):
            out.append("<num>")
        else:
            out.append(token.lower_)
    return out


def csat_sentiment(score) -> str | None:
    if score is None or (isinstance(score, float) and np.isnan(score)):
        return None
    return "negative" if score <= 2 else "neutral" if score == 3 else "positive"


def training_frame(session: Session, limit: int = MAX_TRAIN_TICKETS) -> pd.DataFrame:
    """The newest `limit` tickets with a customer's first message, oldest first."""
    first = (select(func.min(TicketMessage.id).label("mid"), TicketMessage.ticket_id)
             .where(TicketMessage.author_kind.in_([AuthorKind.customer, AuthorKind.bot]))
             .group_by(TicketMessage.ticket_id).subquery())
    newest = (select(Ticket.id).order_by(Ticket.created_at.desc(), Ticket.id.desc())
              .limit(limit).subquery())
    stmt = (select(Ticket.id, Ticket.created_at, Ticket.category, Ticket.priority,
                   Ticket.csat_score, TicketMessage.body)
            .join(first, first.c.ticket_id == Ticket.id)
            .join(TicketMessage, TicketMessage.id == first.c.mid)
            .where(Ticket.id.in_(select(newest.c.id))))
    frame = pd.DataFrame(session.execute(stmt).fetchall(),
                         columns=["id", "created_at", "category", "priority", "csat", "text"])
    frame["sentiment"] = [csat_sentiment(s) for s in frame["csat"]]
    return frame.sort_values(["created_at", "id"]).reset_index(drop=True)


class TriageModel:
    def __init__(self, vectorizer: TfidfVectorizer, classifiers: dict):
        self.vectorizer, self.classifiers = vectorizer, classifiers

    def predict(self, texts: list[str]) -> dict[str, list]:
        x = self.vectorizer.transform(texts)
        out = {}
        for target, clf in self.classifiers.items():
            proba = clf.predict_proba(x)
            out[target] = list(clf.classes_[proba.argmax(axis=1)])
            out[f"{target}_confidence"] = [round(float(p), 4) for p in proba.max(axis=1)]
            if target == "sentiment" and "negative" in clf.classes_:
                neg = list(clf.classes_).index("negative")
                out["negative_probability"] = [round(float(p), 4) for p in proba[:, neg]]
        return out


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None,
                           ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=50_000)


def fit(frame: pd.DataFrame) -> TriageModel:
    vectorizer = _vectorizer().fit(frame["text"])
    x = vectorizer.transform(frame["text"])
    classifiers = {}
    for target in TARGETS:
        labelled = frame[target].notna().to_numpy()
        y = frame.loc[labelled, target]
        if y.nunique() < 2:
            continue
        classifiers[target] = LogisticRegression(max_iter=2000, C=4.0,
                                                 class_weight="balanced").fit(x[labelled], y)
    return TriageModel(vectorizer, classifiers)


def evaluate(model: TriageModel, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    predicted = model.predict(list(test["text"]))
    out = {}
    for target in model.classifiers:
        mask = test[target].notna().to_numpy()
        if not mask.any():
            continue
        y = test.loc[mask, target].to_numpy()
        p = np.asarray(predicted[target])[mask]
        majority = train[target].dropna().mode().iloc[0]
        labels = sorted(set(y) | set(p))
        out[target] = {
            "n": int(mask.sum()),
            "accuracy": round(float(accuracy_score(y, p)), 4),
            "macro_f1": round(float(f1_score(y, p, average="macro")), 4),
            "baseline_majority": {"label": str(majority),
                                  "accuracy": round(float((y == majority).mean()), 4),
                                  "macro_f1": round(float(f1_score(
                                      y, np.full(len(y), majority), average="macro")), 4)},
            "labels": labels,
            "confusion_matrix": confusion_matrix(y, p, labels=labels).tolist(),
        }
    return out
