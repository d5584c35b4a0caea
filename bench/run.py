"""Seeding and API latency at scale, on PostgreSQL, measured side by side in one run.

    .venv/bin/python bench/run.py                       # 1,000,000 customers / 10,000,000 orders
    .venv/bin/python bench/run.py --customers 100000 --orders 1000000 --keep
    .venv/bin/python bench/run.py --skip-seed            # reuse a kept crm_bench database

Phases: (1) `crm db upgrade` and `crm seed` into a fresh database `crm_bench`, timed;
(2) the real API under uvicorn (1 and 2 workers) driven by wrk over loopback for
GET /customers/{id} and GET /customers?email=..., three runs each, medians reported.
Results go to bench/results/<timestamp>.json and are printed as a Markdown table.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
CRM = [sys.executable, "-m", "crm_backend.cli"]
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DB = "crm_bench"


def db_url() -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DB}"


def sh(args, env, **kw):
    return subprocess.run(args, env=env, cwd=ROOT, check=True, text=True, **kw)


def recreate_database() -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB}"'))
    admin.dispose()


def drop_database() -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
    admin.dispose()


def seed(env, customers: int, orders: int) -> dict:
    recreate_database()
    t0 = time.perf_counter()
    sh(CRM + ["db", "upgrade"], env)
    t1 = time.perf_counter()
    sh(CRM + ["seed", "--customers", str(customers), "--orders", str(orders)], env)
    t2 = time.perf_counter()
    return {"migrate_s": round(t1 - t0, 1), "seed_s": round(t2 - t1, 1)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env, workers: int):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "crm_backend.main:app", "--port", str(port),
         "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        env=env, cwd=ROOT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("the API did not start")


def wrk(base: str, mode: str, env: dict, seconds: int, connections: int) -> dict:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
               "-s", str(ROOT / "bench/lookup.lua"), base]
    out = subprocess.run(command, env={**env, "BENCH_MODE": mode}, check=True,
                         capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the crm_bench database")
    parser.add_argument("--seconds", type=int, default=20, help="length of one wrk run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", default="1,16",
                        help="concurrent connections: 1 shows service time, more shows queueing")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the latency runs: apt-get install wrk")

    env = {**os.environ, "CRM_DATABASE_URL": db_url(), "CRM_ENV": "production",
           "CRM_SECRET_KEY": secrets.token_hex(32)}
    result = {"customers": args.customers, "orders": args.orders, "cores": os.cpu_count(),
              "date": time.strftime("%Y-%m-%d")}
    if not args.skip_seed:
        result.update(seed(env, args.customers, args.orders))
    engine = create_engine(db_url())
    with engine.connect() as conn:
        max_id = conn.execute(text("SELECT max(id) FROM customers")).scalar()
        emails = conn.execute(text(
            "SELECT email FROM customers TABLESAMPLE SYSTEM (1) LIMIT 5000")).scalars().all()
        result["rows"] = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                          for t in ("customers", "orders", "order_items", "tickets")}
    engine.dispose()
    key = sh(CRM + ["apikeys", "create", f"bench-{secrets.token_hex(3)}", "--scope",
                    "customers:read"], env, capture_output=True).stdout.strip().splitlines()[-1]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(emails))
    wrk_env = {**env, "BENCH_KEY": key, "BENCH_MAX_ID": str(max_id), "BENCH_EMAILS": fh.name}

    result["latency"] = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        proc, base = serve(env, workers)
        try:
            for mode, conns in [(m, int(c)) for m in ("id", "email")
                                for c in args.connections.split(",")]:
                wrk(base, mode, wrk_env, 5, conns)  # warm-up
                runs = [wrk(base, mode, wrk_env, args.seconds, conns)
                        for _ in range(args.runs)]
                result["latency"][f"{mode}/{workers}w/{conns}c"] = {
                    "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                    "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                    "rps": statistics.median(r["rps"] for r in runs),
                    "errors": sum(r["errors"] + r["non2xx"] for r in runs), "runs": runs}
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    os.unlink(fh.name)
    if not args.keep:
        drop_database()

    out_dir = ROOT / "bench/results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "latency"}, indent=2))
    print("\n| endpoint | workers | connections | p50 (ms) | p99 (ms) | requests/s | errors |")
    print("|---|---|---|---|---|---|---|")
    for name, r in result["latency"].items():
        mode, workers, conns = name.split("/")
        label = "GET /customers/{id}" if mode == "id" else "GET /customers?email="
        print(f"| {label} | {workers[:-1]} | {conns[:-1]} | {r['p50_ms']:.2f} | "
              f"{r['p99_ms']:.2f} | {r['rps']:.0f} | {r['errors']} |")


if __name__ == "__main__":
    main()
