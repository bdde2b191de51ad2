"""The clean-up job: remove orphan blobs and temporary files that writes left behind."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from store.models import Envelope

if TYPE_CHECKING:
    from lumen.services import Services

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanupReport:
    """How many files one clean-up removed."""

    orphan_blobs: int
    temporary_files: int


def clean_up_blobs(services: Services) -> CleanupReport:
    """Remove blobs no envelope row names, and temporary files of interrupted writes.

    Idempotent: a second run finds nothing more to remove. A file that a live
    process still writes, or whose row it has not committed yet, carries that
    process's lock and stays (see :meth:`store.blobs.BlobStore.create`); the apps run
    this at start-up too, so a crash leaves nothing behind once they are back.
    """
    temporary = services.blobs.remove_temporary_files()

    def referenced(names: set[str]) -> set[str]:
        with services.sessions() as session:
            rows = session.scalars(select(Envelope.blob_name).where(Envelope.blob_name.in_(names)))
            return {name for name in rows if name}

    orphans = services.blobs.remove_orphans(referenced)
    return CleanupReport(orphan_blobs=orphans, temporary_files=temporary)
