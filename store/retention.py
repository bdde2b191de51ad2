"""Selection of the sources that the retention rules require to be deleted.

Dates about sources are kept at day granularity, so the rules work in whole days. A
source whose last activity is more than ``retention_days`` old has expired. So has a
source that never submitted anything and was created more than
``unsubmitted_retention_days`` ago.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from store.models import Source, today


def select_expired_sources(
    session: Session,
    retention_days: int,
    unsubmitted_retention_days: int,
    on: dt.date | None = None,
) -> list[str]:
    """Return the ids of the sources that have expired on day ``on`` (default: today, UTC)."""
    if retention_days < 1 or unsubmitted_retention_days < 1:
        raise ValueError("retention periods must be at least one day")

    day = on or today()
    inactive_before = day - dt.timedelta(days=retention_days)
    unsubmitted_before = day - dt.timedelta(days=unsubmitted_retention_days)
    query = select(Source.id).where(
        or_(
            Source.last_activity_on < inactive_before,
            and_(Source.has_submitted.is_(False), Source.created_on < unsubmitted_before),
        )
    )
    return list(session.scalars(query))
