import time
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

console = Console(stderr=True)


def seed_command(
    demo: Annotated[bool, typer.Option("--demo", help="The small demo data set")] = False,
    customers: Annotated[int | None, typer.Option(min=1)] = None,
    orders: Annotated[int | None, typer.Option(min=0)] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same data")] = 42,
    as_of: Annotated[str | None, typer.Option(
        help="Date the history ends (YYYY-MM-DD); default today")] = None,
    if_empty: Annotated[bool, typer.Option(
        "--if-empty", help="Do nothing if the database already has customers")] = False,
):
    """Load realistic synthetic customers, orders, tickets, campaigns and conversations."""
    from crm_backend.core.config import get_settings
    from crm_backend.core.db import get_engine
    from crm_backend.seed import generate, service

    if demo == (customers is not None):
        console.print("[red]error:[/red] give either --demo or --customers N [--orders M]")
        raise typer.Exit(1)
    engine = get_engine()
    if if_empty and not service.is_empty(engine):
        console.print("The database already has customers; nothing seeded (--if-empty).")
        raise typer.Exit(0)
    n = service.DEMO["customers"] if demo else customers
    m = orders if orders is not None else (service.DEMO["orders"] if demo else n * 10)
    plan = generate.Plan(customers=n, orders=m, seed=seed,
                         **({"as_of": date.fromisoformat(as_of)} if as_of else {}))
    started = time.perf_counter()
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("customers", total=n)
        counts = service.seed(engine, plan,
                              progress=lambda done, _: bar.update(task, completed=done))
    elapsed = time.perf_counter() - started
    table = Table("table", "rows", title=f"Seeded in {elapsed:.1f} s (seed {seed})")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    if demo and get_settings().env != "production":
        created = service.ensure_demo_users(engine)
        if created:
            console.print(f"Demo staff accounts (password {service.DEMO_PASSWORD!r}): "
                          + ", ".join(created))
