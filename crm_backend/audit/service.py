"""Every write is audited: a flush hook records who changed which row, with before and after.

The hook sits on the Session class, so no service can forget it. Bulk loads (`crm seed`) opt
out with `session.info["audit"] = False`.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from crm_backend.audit.models import AuditEntry
from crm_backend.core.db import utcnow

# Rows that are logs or caches themselves, or machine output written in bulk.
NOT_AUDITED = {"audit_log", "idempotency_records", "customer_scores", "training_jobs",
               "broker_cursors", "conversation_messages"}
SECRET_COLUMNS = {"password_hash", "key_hash"}


def to_json(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):  # e.g. a fitted model: its size, not its content
        return f"<{len(value)} bytes>"
    return value


def _snapshot(obj, *, old: bool = False) -> dict:
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SECRET_COLUMNS:
            out[key] = "***"
            continue
        if old:
            hist = state.attrs[key].history
            value = hist.deleted[0] if hist.deleted else state.attrs[key].loaded_value
        else:
            value = state.attrs[key].loaded_value
        out[key] = None if value is NO_VALUE else to_json(value)
    return out


def actor_of(session: Session) -> str:
    """Who is writing: set per request by the auth dependency; "system" for commands."""
    return session.info.get("actor", "system")


def _entity_id(obj) -> str:
    # The identity key is not assigned yet inside after_flush; read the primary key instead.
    return ":".join(str(v) for v in inspect(obj).mapper.primary_key_from_instance(obj))


def record(session: Session, action: str, entity_type: str, entity_id, *,
           before: dict | None = None, after: dict | None = None) -> None:
    """An explicit audit entry for actions that are not plain row changes (e.g. a GDPR export)."""
    session.add(AuditEntry(actor=actor_of(session), action=action, entity_type=entity_type,
                           entity_id=str(entity_id), before=before, after=after))


@event.listens_for(Session, "before_flush")
def _capture_before(session: Session, _ctx, _instances) -> None:
    if not session.info.get("audit", True):
        return
    pending = session.info.setdefault("_audit_updates", [])
    for obj in session.dirty:
        if obj.__tablename__ in NOT_AUDITED or not session.is_modified(obj):
            continue
        pending.append((obj, _snapshot(obj, old=True)))
    for obj in session.deleted:
        if obj.__tablename__ not in NOT_AUDITED:
            pending.append((obj, _snapshot(obj, old=True)))


@event.listens_for(Session, "after_flush")
def _write_entries(session: Session, _ctx) -> None:
    if not session.info.get("audit", True):
        return
    actor, now, rows = actor_of(session), utcnow(), []
    for obj in session.new:
        if obj.__tablename__ not in NOT_AUDITED:
            rows.append(dict(actor=actor, action="create", entity_type=obj.__tablename__,
                             entity_id=_entity_id(obj), before=None, after=_snapshot(obj)))
    for obj, before in session.info.pop("_audit_updates", []):
        deleted = obj in session.deleted
        after = None if deleted else _snapshot(obj)
        if after is not None:
            changed = {k for k in after if after[k] != before.get(k)} - {"updated_at", "version"}
            if not changed:
                continue
            before = {k: before[k] for k in sorted(changed)}
            after = {k: after[k] for k in sorted(changed)}
        rows.append(dict(actor=actor, action="delete" if deleted else "update",
                         entity_type=obj.__tablename__, entity_id=_entity_id(obj),
                         before=before, after=after))
    if rows:
        for row in rows:
            row["at"] = now
        session.connection().execute(insert(AuditEntry), rows)
