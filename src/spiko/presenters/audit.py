"""What ``spiko audit list`` prints: one object per record of the audit log."""

from __future__ import annotations

from typing import Any, TypedDict

from spiko.db.models.audit import AuditRecord
from spiko.presenters.formats import timestamp


class AuditRecordBody(TypedDict):
    id: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


def audit_record(row: AuditRecord) -> AuditRecordBody:
    return {
        "id": row.id,
        "at": timestamp(row.at),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "details": row.details,
    }
