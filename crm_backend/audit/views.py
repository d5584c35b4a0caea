from datetime import datetime

from fastapi import APIRouter
from sqlalchemy import select

from crm_backend.audit.models import AuditEntry
from crm_backend.audit.schemas import AuditEntryOut
from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.core.pagination import Page, Pages, paginate

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntryOut],
            dependencies=[require(Permission.audit_read)])
def list_audit(session: SessionDep, params: Pages({"at": AuditEntry.at}, ["-at"]),
               entity_type: str | None = None,
               entity_id: str | None = None, actor: str | None = None,
               action: str | None = None, since: datetime | None = None,
               until: datetime | None = None):
    """Who changed what and when, with the values before and after."""
    stmt = select(AuditEntry)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    return paginate(session, stmt, params, tiebreaker=AuditEntry.id,
                    filters={AuditEntry.entity_type: entity_type,
                             AuditEntry.entity_id: entity_id, AuditEntry.actor: actor,
                             AuditEntry.action: action})
