"""The retention purge: delete expired sources with every row and blob they own."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from store.cases import audit, delete_source
from store.retention import select_expired_sources
from store.settings import load_settings

if TYPE_CHECKING:
    from lumen.services import Services

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    """Counts of what one purge removed."""

    sources: int
    rows: int
    blobs: int
    blob_failures: int


def purge_expired_sources(services: Services) -> PurgeReport:
    """Delete every source whose retention period has ended.

    The inactivity period is the ``retention_days`` setting (the configuration's
    value unless an administrator changed it); sources that never submitted go after
    ``unsubmitted_retention_days``.

    Idempotent: a second run finds nothing left to delete. A source is deleted rows
    first, then blobs, so a crash in between leaves only orphan blobs, which
    :func:`worker.cleanup.clean_up_blobs` removes.
    """
    config = services.config
    with services.sessions() as session:
        # An administrator may have changed the retention period at run time.
        retention_days = load_settings(session, config).retention_days
        expired = select_expired_sources(session, retention_days, config.unsubmitted_retention_days)

    sources = rows = blobs = failures = 0
    for source_id in expired:
        with services.sessions() as session:
            report = delete_source(session, services.blobs, source_id)
        # A purge running at the same time in another process may have deleted it first.
        if report.rows:
            sources += 1
        rows += report.rows
        blobs += report.blobs
        failures += report.blob_failures

    if sources:
        with services.sessions() as session:
            audit(session, None, "retention.purge", detail=f"{sources} sources")
            session.commit()
        logger.info(
            "retention purge deleted sources",
            extra={"sources": sources, "rows": rows, "blobs": blobs},
        )
    if failures:
        logger.error("retention purge could not remove some blobs", extra={"count": failures})

    return PurgeReport(sources=sources, rows=rows, blobs=blobs, blob_failures=failures)
