"""The key-rotation check: how far the re-sealing of a centre's content keys has got.

Re-sealing needs the centre's old private key, which exists only wrapped under
caseworkers' passphrases and, for one session, in the memory of the app that
unwrapped it. A job takes ids only, so it can never hold that key: the re-sealing
itself is done by the administrator's rotation command, which has it. This job
checks the result, read-only, and reports what is left.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from store.models import Centre, KeySlot, WrappedCentreKey

if TYPE_CHECKING:
    from lumen.services import Services

logger = logging.getLogger(__name__)


class UnknownCentre(LookupError):
    """The centre id names no centre in the database."""


@dataclass(frozen=True)
class RotationReport:
    """The state of a centre's key rotation, in counts only."""

    centre_id: str
    key_version: int
    envelopes_not_resealed: int
    old_key_slots: int
    old_wrapped_keys: int

    @property
    def complete(self) -> bool:
        """Whether no envelope and no wrapped key still depends on an old key version."""
        return self.envelopes_not_resealed == 0 and self.old_wrapped_keys == 0


def verify_key_rotation(services: Services, centre_id: str) -> RotationReport:
    """Count what still depends on an old key version of centre ``centre_id``.

    Read-only, so idempotent. ``envelopes_not_resealed`` counts envelopes that the
    centre can open only with an old key. ``old_key_slots`` and ``old_wrapped_keys``
    count the copies that the rotation command deletes once re-sealing is done.
    """
    with services.sessions() as session:
        centre = session.get(Centre, centre_id)
        if centre is None:
            raise UnknownCentre(centre_id)
        version = centre.key_version

        current = select(KeySlot.envelope_id).where(
            KeySlot.centre_id == centre_id, KeySlot.key_version == version
        )
        not_resealed = session.scalar(
            select(func.count(func.distinct(KeySlot.envelope_id))).where(
                KeySlot.centre_id == centre_id,
                KeySlot.key_version < version,
                KeySlot.envelope_id.not_in(current),
            )
        )
        old_slots = session.scalar(
            select(func.count(KeySlot.id)).where(
                KeySlot.centre_id == centre_id, KeySlot.key_version < version
            )
        )
        old_wrapped = session.scalar(
            select(func.count(WrappedCentreKey.id)).where(
                WrappedCentreKey.centre_id == centre_id, WrappedCentreKey.key_version < version
            )
        )

    report = RotationReport(
        centre_id=centre_id,
        key_version=version,
        envelopes_not_resealed=int(not_resealed or 0),
        old_key_slots=int(old_slots or 0),
        old_wrapped_keys=int(old_wrapped or 0),
    )
    if report.envelopes_not_resealed:
        logger.warning(
            "key rotation incomplete",
            extra={"centre": centre_id, "envelopes": report.envelopes_not_resealed},
        )
    else:
        logger.info(
            "key rotation checked",
            extra={
                "centre": centre_id,
                "old_key_slots": report.old_key_slots,
                "old_wrapped_keys": report.old_wrapped_keys,
            },
        )
    return report
