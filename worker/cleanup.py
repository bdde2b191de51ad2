"""The clean-up job: remove orphan blobs and temporary files that writes left behind."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from store.models import Envelope

if TYPE_CHECKING:
    from lumen.services import Services

logger = logging.getLogger(__name__)

# A blob is written and renamed into place before the row naming it commits, and a
# slow upload over Tor keeps its temporary file open for as long as it lasts. Only
# files older than this are touched, so nothing an upload still needs goes.
GRACE_SECONDS: Final = 24 * 60 * 60


@dataclass(frozen=True)
class CleanupReport:
    """How many files one clean-up removed."""

    orphan_blobs: int
    temporary_files: int
    failures: int


def clean_up_blobs(services: Services, grace_seconds: float = GRACE_SECONDS) -> CleanupReport:
    """Remove blobs no envelope row names, and stale temporary files.

    Idempotent: a second run finds nothing more to remove. Files modified less than
    ``grace_seconds`` ago are kept even when no row names them yet.
    """
    temporary = services.blobs.remove_temporary_files(min_age_seconds=grace_seconds)

    # List the folder before reading the rows: a blob whose row commits in between
    # is then seen as referenced, never as an orphan.
    on_disk = services.blobs.names()
    with services.sessions() as session:
        referenced = set(
            session.scalars(select(Envelope.blob_name).where(Envelope.blob_name.is_not(None)))
        )

    cutoff = time.time() - grace_seconds
    removed = failures = 0
    for name in sorted(on_disk - referenced):
        try:
            if services.blobs.path(name).stat().st_mtime >= cutoff:
                continue
            if services.blobs.delete(name):
                removed += 1
        except FileNotFoundError:
            continue
        except OSError as error:
            failures += 1
            logger.error("orphan blob removal failed", extra={"error": type(error).__name__})

    if removed:
        logger.info("removed orphan blobs", extra={"count": removed})
    return CleanupReport(orphan_blobs=removed, temporary_files=temporary, failures=failures)
