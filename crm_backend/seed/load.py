"""Bulk loading of generated batches: COPY on PostgreSQL, Core executemany elsewhere.

Both paths bypass the ORM, so the audit hook (meant for people's edits) stays out of it.
"""

import json
import math
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC

import numpy as np
from sqlalchemy import Connection, Engine, Integer, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

import crm_backend.core.models  # noqa: F401  (registers every table)
from crm_backend.core.db import Base
from crm_backend.seed.generate import Batch

JSON_COLUMNS = {"address", "shipping_address", "custom_attributes", "audience"}


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _python_values(name: str, column) -> list:
    """Column -> Python objects SQLAlchemy accepts (aware datetimes, dicts, None)."""
    if isinstance(column, np.ndarray) and np.issubdtype(column.dtype, np.datetime64):
        if column.dtype == "datetime64[D]":
            return [None if np.isnat(v) else v.astype(object) for v in column]
        return [None if np.isnat(v) else v.astype("datetime64[us]").astype(object)
                .replace(tzinfo=UTC) for v in column]
    values = column.tolist() if isinstance(column, np.ndarray) else list(column)
    if name in JSON_COLUMNS:
        values = [json.loads(v) if isinstance(v, str) else v for v in values]
    return [None if _is_missing(v) else v for v in values]


def _copy_text(name: str, column, integer: bool) -> Sequence[str]:
    """Column -> COPY text-format fields, vectorised where numpy allows."""
    if isinstance(column, np.ndarray):
        if np.issubdtype(column.dtype, np.datetime64):
            if column.dtype == "datetime64[D]":
                out = np.datetime_as_string(column, unit="D").astype(object)
            else:
                out = np.char.add(np.datetime_as_string(column, unit="s"), "+00").astype(object)
            out[np.isnat(column)] = r"\N"
            return out
        if column.dtype == bool:
            return np.where(column, "t", "f")
        if np.issubdtype(column.dtype, np.integer):
            return column.astype(str)
        if np.issubdtype(column.dtype, np.floating):
            fmt = "%d" if integer else "%.2f"  # e.g. optional integers held as float + NaN
            out = np.char.mod(fmt, np.nan_to_num(column)).astype(object)
            out[np.isnan(column)] = r"\N"
            return out
    out = []
    for v in column:
        if _is_missing(v):
            out.append(r"\N")
        elif isinstance(v, dict):
            out.append(_escape(json.dumps(v)))
        else:
            out.append(_escape(str(v)))
    return out


def _escape(s: str) -> str:
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def write(conn: Connection, batch: Batch) -> None:
    if len(batch) == 0:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, batch)
    else:
        table = Base.metadata.tables[batch.table]
        cols = {k: _python_values(k, v) for k, v in batch.columns.items()}
        names = list(cols)
        rows = [dict(zip(names, r, strict=True)) for r in zip(*cols.values(), strict=True)]
        conn.execute(table.insert(), rows)


def _copy(conn: Connection, batch: Batch) -> None:
    names = list(batch.columns)
    table = Base.metadata.tables[batch.table]
    fields = [_copy_text(k, v, isinstance(table.c[k].type, Integer))
              for k, v in batch.columns.items()]
    payload = "".join("\t".join(row) + "\n" for row in zip(*fields, strict=True))
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {batch.table} ({', '.join(names)}) FROM STDIN") as copy:
        copy.write(payload.encode())


def advance_sequences(conn: Connection) -> None:
    """After loading explicit ids, make the next generated id follow the largest one."""
    if conn.dialect.name != "postgresql":
        return  # SQLite picks max(rowid) + 1 by itself
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"))


BULK_TABLES = ("customers", "customer_tags", "orders", "order_items", "tickets",
               "ticket_messages", "campaign_contacts", "conversations")


@contextmanager
def deferred_indexes(engine: Engine):
    """Drop foreign keys and non-unique indexes of the big tables while loading into an empty
    database, then rebuild them in one pass each: much faster than maintaining them per row.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    tables = [Base.metadata.tables[name] for name in BULK_TABLES]
    indexes = [ix for t in tables for ix in t.indexes if not ix.unique]
    foreign_keys = [fk for t in tables for fk in t.foreign_key_constraints]
    with engine.begin() as conn:
        for fk in foreign_keys:
            conn.execute(DropConstraint(fk))
        for ix in indexes:
            conn.execute(DropIndex(ix))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for ix in indexes:
                conn.execute(CreateIndex(ix))
            for fk in foreign_keys:
                conn.execute(AddConstraint(fk))
            for t in tables:
                conn.execute(text(f"ANALYZE {t.name}"))
