"""Quality of the assistant's NLU on the held-out test set (tests/nlu/test_nlu.yml), which is
never trained on. Runs in the assistant's environment:

    bot/.venv/bin/python bench/nlu_quality.py [--model bot/models/assistant.tar.gz]
        [--check]   exit 1 when a target below is missed

Reports intent macro-F1 (FAQ topics count as their own labels, e.g. faq/warranty), entity F1
(exact spans), the out-of-scope rejection rate (out-of-scope messages classified out_of_scope or
left below the fallback threshold) and the in-scope false rejection rate. Writes the figures to
bench/results/nlu_quality.json, a confusion-matrix image to docs/img/nlu-confusion.png and
the per-intent table to docs/nlu-report.md.
"""

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"intent_macro_f1": 0.95, "oos_rejection": 0.90, "in_scope_false_rejection": 0.05}
REJECTED = {"out_of_scope", "nlu_fallback"}


def full_intent(parsed: dict) -> str:
    name = parsed["intent"]["name"]
    if name == "faq":
        ranking = parsed.get("response_selector", {}).get("faq", {}).get("response", {})
        return ranking.get("intent_response_key") or "faq"
    return name


def spans(entities) -> set:
    return {(e["entity"], e["start"], e["end"]) for e in entities
            if e["entity"] in {"order_number", "ticket_number", "email", "phone", "product"}}


async def predict(model: str, messages) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [await agent.parse_message(m.get("text")) for m in messages]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "bot/models/assistant.tar.gz"))
    parser.add_argument("--test-data", default=str(ROOT / "tests/nlu/test_nlu.yml"))
    parser.add_argument("--check", action="store_true", help="fail when a target is missed")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.metrics import classification_report, f1_score

    messages = load_data(args.test_data).intent_examples
    started = time.perf_counter()
    parsed = asyncio.run(predict(args.model, messages))
    seconds = time.perf_counter() - started
    truth = [m.get_full_intent() for m in messages]
    raw = [full_intent(p) for p in parsed]
    # A message left below the fallback threshold is rejected, as out-of-scope ones should be.
    predicted = ["out_of_scope" if p in REJECTED else p for p in raw]
    labels = sorted(set(truth))
    oos = [p for t, p in zip(truth, raw, strict=True) if t == "out_of_scope"]
    in_scope = [p for t, p in zip(truth, raw, strict=True) if t != "out_of_scope"]
    tp = fp = fn = 0
    for message, result in zip(messages, parsed, strict=True):
        gold, got = spans(message.get("entities") or []), spans(result.get("entities", []))
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
    entity_f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    figures = {
        "examples": len(messages), "out_of_scope_examples": len(oos),
        "intent_macro_f1": round(f1_score(truth, predicted, labels=labels, average="macro"), 4),
        "intent_accuracy": round(sum(t == p for t, p in zip(truth, predicted, strict=True))
                                 / len(truth), 4),
        "entity_f1": round(entity_f1, 4),
        "oos_rejection": round(sum(p in REJECTED for p in oos) / len(oos), 4),
        "in_scope_false_rejection": round(sum(p in REJECTED for p in in_scope)
                                          / len(in_scope), 4),
        "parse_ms_per_message": round(1000 * seconds / len(messages), 1),
    }
    report = classification_report(truth, predicted, labels=labels, output_dict=True,
                                   zero_division=0)
    confusions = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    out = ROOT / "bench/results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "nlu_quality.json").write_text(json.dumps(
        {"figures": figures, "per_intent": report,
         "top_confusions": [[t, p, n] for (t, p), n in confusions.most_common(15)],
         "examples": [{"text": m.get("text"), "truth": t, "predicted": p,
                       "confidence": p_["intent"].get("confidence")}
                      for m, t, p, p_ in zip(messages, truth, raw, parsed, strict=True)]},
        indent=2))
    _write_markdown(figures, report, labels, confusions)
    _plot(truth, predicted, labels)
    print(json.dumps(figures, indent=2))
    missed = [k for k, target in TARGETS.items()
              if (figures[k] > target if k == "in_scope_false_rejection" else figures[k] < target)]
    if missed:
        print(f"Targets missed: {', '.join(missed)} (targets: {TARGETS})", file=sys.stderr)
    return 1 if missed and args.check else 0


def _write_markdown(figures, report, labels, confusions) -> None:
    lines = ["# NLU report", "",
             "Generated by `bench/nlu_quality.py` from the held-out test set "
             "`tests/nlu/test_nlu.yml` (never trained on). Figures are in "
             "[benchmarks.md](benchmarks.md).", "",
             "![Confusion matrix](img/nlu-confusion.png)", "",
             "| intent | precision | recall | F1 | examples |", "|---|---|---|---|---|"]
    for label in labels:
        r = report[label]
        lines.append(f"| {label} | {r['precision']:.2f} | {r['recall']:.2f} | "
                     f"{r['f1-score']:.2f} | {int(r['support'])} |")
    lines += ["", "Most frequent confusions (true → predicted, count):", ""]
    lines += [f"- {t} → {p}: {n}" for (t, p), n in confusions.most_common(15)]
    (ROOT / "docs/nlu-report.md").write_text("\n".join(lines) + "\n")


def _plot(truth, predicted, labels) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(14, 12))
    ConfusionMatrixDisplay.from_predictions(truth, predicted, labels=labels, ax=ax,
                                            xticks_rotation="vertical", colorbar=False,
                                            include_values=False, cmap="Blues")
    ax.set_title("Intent confusion on the held-out NLU test set")
    fig.tight_layout()
    (ROOT / "docs/img").mkdir(parents=True, exist_ok=True)
    fig.savefig(ROOT / "docs/img/nlu-confusion.png", dpi=80)


if __name__ == "__main__":
    sys.exit(main())
