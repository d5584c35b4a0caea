"""The migrations alone make the schema, and they go down and up again cleanly."""

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from crm_backend.core import migrate
from crm_backend.core.db import Base, make_engine


def test_upgrade_matches_models_and_downgrade_removes_everything(database_url, tmp_path):
    # Work on a separate database so the suite's own schema stays untouched.
    url = database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'mig.db'}"
    else:
        url = _scratch_pg(database_url)
    engine = make_engine(url)
    try:
        migrate.upgrade(url)
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set(Base.metadata.tables)
        assert _autogenerate_diff(engine) == []
        migrate.downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(url)
        assert set(inspect(engine).get_table_names()) - {"alembic_version"} == tables
    finally:
        engine.dispose()
        if not url.startswith("sqlite"):
            _drop_pg(database_url, url)


def _autogenerate_diff(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


def _scratch_pg(base_url: str) -> str:
    from sqlalchemy import create_engine, text

    name = make_url(base_url).database + "_mig"
    admin = create_engine(make_url(base_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg(base_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(make_url(base_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()
