import io
import itertools
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

console = Console(stderr=True)
ENTITY_HELP = "customers, products or orders"


def import_command(
    entity: Annotated[str, typer.Argument(help=ENTITY_HELP)],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only")] = False,
):
    """Import a CSV file: every row is validated; if any is rejected, nothing is written."""
    from crm_backend.core.db import get_sessionmaker
    from crm_backend.core.errors import AppError
    from crm_backend.transfer import service

    size = file.stat().st_size
    with file.open("rb") as raw, Progress(TextColumn("{task.description}"), BarColumn(),
                                         DownloadColumn(), TransferSpeedColumn(),
                                         console=console) as bar:
        task = bar.add_task(f"import {entity}", total=size)
        rows = itertools.count(1)

        def on_row():
            if next(rows) % 1000 == 0:
                bar.update(task, completed=raw.tell())

        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        with get_sessionmaker()() as session:
            try:
                report = service.import_csv(session, entity, text, dry_run=dry_run,
                                            on_row=on_row)
            except AppError as exc:
                console.print(f"[red]error:[/red] {exc.message} {exc.details or ''}")
                raise typer.Exit(1) from None
    verb = "checked" if dry_run else "imported"
    if report["rejected_count"]:
        console.print(f"[red]Nothing {verb}:[/red] {report['rejected_count']} of "
                      f"{report['rows']} rows rejected.")
        for r in report["rejected"][:20]:
            console.print(f"  line {r['line']}: {'; '.join(r['errors'])}")
        raise typer.Exit(1)
    console.print(f"{report['rows']} rows {verb}: {report['created']} created, "
                  f"{report['updated']} updated.")


def export_command(
    entity: Annotated[str, typer.Argument(help=ENTITY_HELP)],
    file: Annotated[Path, typer.Argument(dir_okay=False, writable=True)],
):
    """Export as CSV (the same columns import reads)."""
    from crm_backend.core.db import get_sessionmaker
    from crm_backend.core.errors import AppError
    from crm_backend.transfer import service

    lines = 0
    with get_sessionmaker()() as session, file.open("w", newline="") as out, Progress(
            TextColumn("{task.description}"), TextColumn("{task.completed:,} lines"),
            console=console) as bar:
        task = bar.add_task(f"export {entity}")
        try:
            for piece in service.export_csv(session, entity):
                out.write(piece)
                lines += piece.count("\n")
                bar.update(task, completed=lines)
        except AppError as exc:
            console.print(f"[red]error:[/red] {exc.message}")
            raise typer.Exit(1) from None
    console.print(f"Wrote {lines - 1:,} rows to {file}.")
