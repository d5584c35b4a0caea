"""`crm`: the staff command line. Sub-commands live next to the domain they serve."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crm_backend.scoring.cli import clv_app, models_app, rules_app
from crm_backend.seed.cli import seed_command
from crm_backend.transfer.cli import export_command, import_command

app = typer.Typer(help="Support CRM: database, users, data and server.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Service API keys.", no_args_is_help=True)
docs_app = typer.Typer(help="Generated documentation.", no_args_is_help=True)
events_app = typer.Typer(help="The assistant's conversation events.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="apikeys")
app.add_typer(docs_app, name="docs")
app.add_typer(models_app, name="models")
app.add_typer(clv_app, name="clv")
app.add_typer(rules_app, name="rules")
app.add_typer(events_app, name="events")
app.command("seed")(seed_command)
app.command("import")(import_command)
app.command("export")(export_command)

console = Console(stderr=True)


def fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head"):
    """Create or migrate the schema to the latest (or given) revision."""
    from crm_backend.core.config import get_settings
    from crm_backend.core.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    console.print(f"Database at revision {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. -1 or base")]):
    """Roll the schema back."""
    from crm_backend.core.config import get_settings
    from crm_backend.core.migrate import downgrade

    downgrade(get_settings().database_url, revision)
    console.print(f"Database downgraded to {revision}.")


@users_app.command("create")
def users_create(
    email: str,
    role: Annotated[str, typer.Option(help="admin, manager, agent or analyst")],
    full_name: Annotated[str, typer.Option("--name")] = "",
    password: Annotated[str | None, typer.Option(
        help="Leave out to be prompted (recommended: keeps it out of shell history)")] = None,
):
    """Create a staff account."""
    from crm_backend.auth import service
    from crm_backend.auth.models import Role
    from crm_backend.core.db import get_sessionmaker
    from crm_backend.core.errors import AppError

    if role not in Role.__members__:
        fail(f"unknown role {role!r}; choose one of {', '.join(Role)}")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10 or len(password.encode()) > 72:
        fail("the password must have 10 to 72 characters (72 bytes in UTF-8)")
    with get_sessionmaker()() as session:
        try:
            user = service.create_user(session=session, email=email, role=Role(role),
                                       full_name=full_name or email.split("@")[0],
                                       password=password)
        except AppError as exc:
            fail(exc.message)
        session.commit()
        console.print(f"Created {user.role} {user.email} (id {user.id}).")


@users_app.command("list")
def users_list():
    """List staff accounts."""
    from sqlalchemy import select

    from crm_backend.auth.models import User
    from crm_backend.core.db import get_sessionmaker

    table = Table("id", "email", "name", "role", "active", "last sign-in")
    with get_sessionmaker()() as session:
        for u in session.scalars(select(User).order_by(User.email)):
            table.add_row(str(u.id), u.email, u.full_name, u.role, "yes" if u.is_active else "no",
                          f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "-")
    Console().print(table)


@keys_app.command("list")
def apikeys_list():
    """List service API keys (never the keys themselves)."""
    from sqlalchemy import select

    from crm_backend.auth.models import ApiKey
    from crm_backend.core.db import get_sessionmaker

    table = Table("id", "name", "prefix", "scopes", "revoked")
    with get_sessionmaker()() as session:
        for k in session.scalars(select(ApiKey).order_by(ApiKey.name)):
            table.add_row(str(k.id), k.name, k.prefix, ", ".join(k.scopes),
                          f"{k.revoked_at:%Y-%m-%d}" if k.revoked_at else "-")
    Console().print(table)


@keys_app.command("revoke")
def apikeys_revoke(key_id: int):
    """Revoke a service API key at once."""
    from crm_backend.auth import service
    from crm_backend.core.db import get_sessionmaker
    from crm_backend.core.errors import AppError

    with get_sessionmaker()() as session:
        try:
            service.revoke_api_key(session=session, key_id=key_id)
        except AppError as exc:
            fail(exc.message)
        session.commit()
    console.print(f"API key {key_id} revoked.")


@keys_app.command("create")
def apikeys_create(
    name: str,
    scopes: Annotated[list[str], typer.Option("--scope", help="Repeat for each permission")],
    replace: Annotated[bool, typer.Option(
        "--replace", help="If a key of this name exists, give it a new secret and these "
                          "scopes; its old secret stops working")] = False,
):
    """Create a service API key and print it once (on stdout, for scripts)."""
    from crm_backend.auth import service
    from crm_backend.auth.permissions import Permission
    from crm_backend.core.db import get_sessionmaker
    from crm_backend.core.errors import AppError

    unknown = [s for s in scopes if s not in Permission._value2member_map_]
    if unknown:
        fail(f"unknown scope(s) {', '.join(unknown)}; see docs/permissions.md")
    with get_sessionmaker()() as session:
        try:
            row, key = service.create_api_key(session=session, name=name,
                                              scopes=[Permission(s) for s in scopes],
                                              created_by_id=None, replace=replace)
        except AppError as exc:
            fail(f"{exc.message} (--replace gives it a new secret)")
        session.commit()
    console.print(f"API key {row.name!r} created with scopes: {', '.join(row.scopes)}")
    print(key)


@docs_app.command("permissions")
def docs_permissions(out: str = "docs/permissions.md"):
    """Write the permission matrix (roles x permissions x routes) to a Markdown file."""
    from crm_backend.auth.permissions import permission_matrix_markdown
    from crm_backend.main import create_app

    with open(out, "w") as fh:
        fh.write(permission_matrix_markdown(create_app()))
    console.print(f"Wrote {out}.")


@events_app.command("consume")
def events_consume(
    source: Annotated[str, typer.Option(
        "--from", envvar="CRM_EVENTS_SOURCE",
        help="sql:<database URL of Rasa's SQL event broker> or "
             "amqp://user:pass@host:5672/%2F?queue=rasa_events")],
    interval: float = 1.0,
):
    """Store the assistant's conversation events, and route a paused conversation's customer
    messages to its ticket. Runs until stopped."""
    from crm_backend.conversations import broker

    console.print(f"Consuming conversation events from {source.split('@')[-1]}")
    try:
        broker.run(source, interval=interval)
    except ValueError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="CRM_PORT")] = 8000,
    reload: bool = False,
):
    """Run the HTTP API."""
    import uvicorn

    uvicorn.run("crm_backend.main:app", host=host, port=port, reload=reload,
                proxy_headers=True)


if __name__ == "__main__":
    app()
