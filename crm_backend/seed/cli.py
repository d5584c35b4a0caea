import typer


def seed_command(demo: bool = True, if_empty: bool = False):
    """Load synthetic data (placeholder until the generator lands)."""
    raise typer.Exit(0)
