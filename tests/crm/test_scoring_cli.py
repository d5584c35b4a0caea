"""Bring-your-own-data commands on good and malformed files, and `crm models` on a database."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crm_backend.cli import app

runner = CliRunner()


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


@pytest.fixture
def customers_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    spend = rng.gamma(2, 50, n)
    plan = rng.choice(["basic", "plus", "pro"], n)
    visits = rng.poisson(3, n).astype(float)
    visits[rng.random(n) < 0.1] = np.nan  # missing values
    logit = 0.04 * (spend - 100) + np.where(plan == "pro", 3, 0) - 0.6 * np.nan_to_num(visits)
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    path = tmp_path / "customers.csv"
    pd.DataFrame({"customer_ref": [f"C{i:05d}" for i in range(n)], "spend": spend.round(2),
                  "plan": np.where(rng.random(n) < 0.05, None, plan), "visits": visits,
                  "churned": np.where(churned, "yes", "no")}).to_csv(path, index=False)
    return path


def test_train_custom_reports_cross_validated_auc(customers_csv):
    result = runner.invoke(app, ["models", "train-custom", "--csv", str(customers_csv),
                                 "--target", "churned", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 600 and report["positive_class"] == "yes"
    assert set(report["numeric_columns"]) == {"spend", "visits"}
    assert report["categorical_columns"] == ["plan"]
    assert report["dropped_columns"] == ["customer_ref"]
    assert report["missing_values"] > 0
    assert report["roc_auc_mean"] > 0.75 and len(report["roc_auc_folds"]) == 5
    readable = runner.invoke(app, ["models", "train-custom", "--csv", str(customers_csv),
                                   "--target", "churned"])
    assert readable.exit_code == 0 and "cross-validated ROC AUC" in readable.stdout


def test_train_custom_rejects_malformed_files(tmp_path, customers_csv):
    missing = runner.invoke(app, ["models", "train-custom", "--csv", str(tmp_path / "no.csv"),
                                  "--target", "y"])
    assert "no such file" in _one_line_error(missing)
    no_target = runner.invoke(app, ["models", "train-custom", "--csv", str(customers_csv),
                                    "--target", "label"])
    assert "missing column(s) label" in _one_line_error(no_target)
    three = tmp_path / "three.csv"
    three.write_text("a,y\n1,x\n2,y\n3,z\n")
    assert "exactly two values" in _one_line_error(runner.invoke(
        app, ["models", "train-custom", "--csv", str(three), "--target", "y"]))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage\x00\n\x80\x81")
    assert "binary.csv" in _one_line_error(runner.invoke(
        app, ["models", "train-custom", "--csv", str(binary), "--target", "y"]))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty" in _one_line_error(runner.invoke(
        app, ["models", "train-custom", "--csv", str(empty), "--target", "y"]))


@pytest.fixture
def transactions_csv(tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    start = pd.Timestamp("2025-01-01")
    for c in range(300):
        rate = rng.gamma(1.0, 1 / 10)  # purchases per day
        day = rng.uniform(0, 100)
        while day < 365:
            rows.append((f"cust-{c}", (start + pd.Timedelta(days=int(day))).date(),
                         round(float(rng.gamma(4, 10 + c % 7)), 2)))
            if rng.random() < 0.1:
                break
            day += rng.exponential(1 / rate)
    path = tmp_path / "tx.csv"
    pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).to_csv(path, index=False)
    return path


def test_clv_fit_reports_parameters_and_values(transactions_csv):
    result = runner.invoke(app, ["clv", "fit", "--transactions", str(transactions_csv),
                                 "--json", "--top", "5"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["customers"] == 300
    assert all(report["bgnbd"][k] > 0 for k in ("r", "alpha", "a", "b"))
    assert all(report["gamma_gamma"][k] > 0 for k in ("p", "q", "v"))
    top = report["top_customers"]
    assert len(top) == 5 and top[0]["clv"] >= top[-1]["clv"] > 0
    readable = runner.invoke(app, ["clv", "fit", "--transactions", str(transactions_csv)])
    assert readable.exit_code == 0 and "BG/NBD: r=" in readable.stdout


def test_clv_fit_rejects_malformed_files(tmp_path):
    bad_date = tmp_path / "bad.csv"
    bad_date.write_text("customer_id,date,amount\na,2025-01-01,10\nb,yesterday,5\n")
    assert "line 3" in _one_line_error(runner.invoke(
        app, ["clv", "fit", "--transactions", str(bad_date)]))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("customer,when,value\na,2025-01-01,10\n")
    assert "missing column(s) customer_id, date, amount" in _one_line_error(
        runner.invoke(app, ["clv", "fit", "--transactions", str(wrong)]))
    few = tmp_path / "few.csv"
    few.write_text("customer_id,date,amount\na,2025-01-01,10\nb,2025-01-02,5\n")
    assert "at least 10" in _one_line_error(runner.invoke(
        app, ["clv", "fit", "--transactions", str(few)]))


def test_rules_mine_finds_the_planted_pair(tmp_path):
    rng = np.random.default_rng(2)
    rows = []
    for b in range(400):
        items = set(rng.choice(list("abcdefgh"), rng.integers(1, 3)))
        if rng.random() < 0.3:
            items |= {"espresso machine", "grinder"}
        rows += [(b, i) for i in items]
    path = tmp_path / "baskets.csv"
    pd.DataFrame(rows, columns=["basket_id", "item"]).to_csv(path, index=False)
    result = runner.invoke(app, ["rules", "mine", "--baskets", str(path), "--min-support",
                                 "0.05", "--min-confidence", "0.5", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["baskets"] == 400 and report["rules"] >= 2
    pair = [r for r in report["top_rules"]
            if r["antecedents"] == ["espresso machine"] and r["consequents"] == ["grinder"]]
    assert pair and pair[0]["confidence"] == 1.0 and pair[0]["lift"] > 2
    readable = runner.invoke(app, ["rules", "mine", "--baskets", str(path)])
    assert readable.exit_code == 0 and "frequent itemsets" in readable.stdout


def test_rules_mine_rejects_malformed_input(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("order,product\n1,a\n")
    assert "missing column(s) basket_id, item" in _one_line_error(
        runner.invoke(app, ["rules", "mine", "--baskets", str(path)]))
    path.write_text("basket_id,item\n1,a\n")
    assert "must be in (0, 1]" in _one_line_error(runner.invoke(
        app, ["rules", "mine", "--baskets", str(path), "--min-support", "2"]))


def test_models_train_list_and_rollback_commands(engine, tmp_path):
    from datetime import date

    from crm_backend.seed import generate, service

    service.seed(engine, generate.Plan(customers=300, orders=3000, seed=7,
                                       as_of=date(2026, 6, 30)))
    trained = runner.invoke(app, ["models", "train", "segments", "--json"])
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["models"]["segments"]["version"] == 1
    runner.invoke(app, ["models", "train", "segments", "--no-score"])
    skipped = runner.invoke(app, ["models", "train", "--if-untrained"])
    assert skipped.exit_code == 0 and "nothing to do" in skipped.stderr
    listed = json.loads(runner.invoke(app, ["models", "list", "--json"]).stdout)["models"]
    assert [(m["version"], m["active"]) for m in listed] == [(1, False), (2, True)]
    assert runner.invoke(app, ["models", "rollback", "segments"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["models", "list", "--json"]).stdout)["models"]
    assert [m["active"] for m in listed] == [True, False]
    assert "unknown model" in _one_line_error(runner.invoke(app, ["models", "train", "x"]))
    report = runner.invoke(app, ["models", "report", "--out", str(tmp_path / "r")])
    assert report.exit_code == 0 and (tmp_path / "r" / "index.html").exists()
    assert (tmp_path / "r" / "segments.png").read_bytes()[:4] == b"\x89PNG"
