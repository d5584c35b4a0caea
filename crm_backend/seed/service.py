"""Orchestrates a seed run: generate chunk by chunk, bulk-load, keep memory flat."""

from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from crm_backend.auth import service as auth
from crm_backend.auth.models import Role
from crm_backend.customers.models import Customer
from crm_backend.seed import generate, load

DEMO = {"customers": 300, "orders": 2500}
BULK_THRESHOLD = 50_000  # customers; below this, index upkeep costs less than a rebuild
DEMO_PASSWORD = "demo-password-1"
DEMO_USERS = [("admin@example.com", "Alex Admin", Role.admin),
              ("manager@example.com", "Morgan Manager", Role.manager),
              ("agent@example.com", "Avery Agent", Role.agent),
              ("agent2@example.com", "Jordan Agent", Role.agent),
              ("analyst@example.com", "Casey Analyst", Role.analyst)]


def is_empty(engine: Engine) -> bool:
    with Session(engine) as session:
        return not session.scalar(select(func.count()).select_from(Customer))


def seed(engine: Engine, plan: generate.Plan,
         progress: Callable[[int, Counter], None] = lambda done, counts: None) -> Counter:
    """Load the plan's data; `progress(customers_done, rows_per_table)` after each chunk."""
    counts: Counter = Counter()
    counters = generate.Counters()
    with engine.begin() as conn:
        for batch in (generate.products(plan), generate.campaigns(plan)):
            load.write(conn, batch)
            counts[batch.table] += len(batch)
    big = plan.customers >= BULK_THRESHOLD and is_empty(engine)
    with load.deferred_indexes(engine) if big else nullcontext():
        for index, (start, size) in enumerate(generate.chunks(plan)):
            batches = generate.generate_chunk(plan, index, start + 1, size, counters)
            # One transaction per chunk keeps memory and WAL bounded on 1M customers.
            with engine.begin() as conn:
                for batch in batches:
                    load.write(conn, batch)
                    counts[batch.table] += len(batch)
            progress(start + size, counts)
    with engine.begin() as conn:
        load.advance_sequences(conn)
    return counts


def ensure_demo_users(engine: Engine) -> list[str]:
    """Create the demo staff accounts that do not exist yet; returns their emails."""
    created = []
    with Session(engine) as session:
        for email, name, role in DEMO_USERS:
            if auth.get_by_email(session=session, email=email) is None:
                auth.create_user(session=session, email=email, full_name=name, role=role,
                                 password=DEMO_PASSWORD)
                created.append(email)
        session.commit()
    return created
