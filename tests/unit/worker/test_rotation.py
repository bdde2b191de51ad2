"""The key-rotation check counts what still depends on an old centre key."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from lumen.services import Services
from store.models import Centre, KeySlot
from tests.unit.worker.factories import submit
from worker.rotation import UnknownCentre, verify_key_rotation


def bump_version(services: Services, centre_id: str) -> None:
    with services.sessions() as session:
        session.execute(
            update(Centre).where(Centre.id == centre_id).values(key_version=Centre.key_version + 1)
        )
        session.commit()


def test_check_before_rotation_is_complete(services: Services) -> None:
    submit(services, ["payoke"])

    report = verify_key_rotation(services, "payoke")

    assert report.complete
    assert report.key_version == 1
    assert report.old_key_slots == 0


def test_check_counts_envelopes_not_resealed(services: Services) -> None:
    submit(services, ["payoke"], with_file=True)
    submit(services, ["surya"])
    bump_version(services, "payoke")

    report = verify_key_rotation(services, "payoke")

    # One message, one file body and one file name envelope.
    assert report.envelopes_not_resealed == 3
    assert report.old_key_slots == 3
    assert not report.complete


def test_check_after_resealing(services: Services) -> None:
    submit(services, ["payoke"])
    bump_version(services, "payoke")
    with services.sessions() as session:
        old = session.scalars(select(KeySlot).where(KeySlot.centre_id == "payoke")).all()
        for slot in old:
            session.add(
                KeySlot(
                    envelope_id=slot.envelope_id,
                    centre_id="payoke",
                    key_version=2,
                    sealed_key=slot.sealed_key,
                )
            )
        session.commit()

    resealed = verify_key_rotation(services, "payoke")
    with services.sessions() as session:
        session.execute(
            delete(KeySlot).where(KeySlot.key_version == 1, KeySlot.centre_id == "payoke")
        )
        session.commit()
    cleaned = verify_key_rotation(services, "payoke")

    assert resealed.envelopes_not_resealed == 0
    assert resealed.old_key_slots == 1
    assert cleaned.old_key_slots == 0
    assert cleaned.complete


def test_check_unknown_centre(services: Services) -> None:
    with pytest.raises(UnknownCentre):
        verify_key_rotation(services, "nowhere")
