"""Recording what a source sends: the encrypted rows for a report or a follow-up."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from lumen.services import Services
from source_app.uploads import EncryptedUpload, StreamingRequest, clean_filename
from store.cases import record_submissions
from store.envelopes import INLINE_LIMIT, PendingEnvelope, seal_value
from store.models import Source

logger = logging.getLogger(__name__)

Item = tuple[str, PendingEnvelope, PendingEnvelope | None]


def _seal_text(
    services: Services, request: StreamingRequest, text: str
) -> tuple[PendingEnvelope, EncryptedUpload | None]:
    data = text.encode("utf-8")
    if len(data) <= INLINE_LIMIT:
        return seal_value(data), None

    # A long message goes to a blob like a file does, registered on the request so
    # that it is removed again if the submission fails.
    upload = request.new_upload(services.blobs, len(data))
    upload.write(data)
    upload.finish()
    assert upload.pending is not None
    return upload.pending, upload


def _file_items(files: Sequence[FileStorage]) -> tuple[list[Item], list[EncryptedUpload]]:
    items: list[Item] = []
    uploads: list[EncryptedUpload] = []
    for item in files:
        upload = item.stream
        if not isinstance(upload, EncryptedUpload) or upload.pending is None:
            raise ValueError("a file part was not streamed into an envelope")
        meta = json.dumps(
            {
                "name": clean_filename(item.filename),
                "type": item.mimetype or "application/octet-stream",
            },
            ensure_ascii=False,
        )
        items.append(("file", upload.pending, seal_value(meta.encode("utf-8"))))
        uploads.append(upload)
    return items, uploads


def store_submission(
    services: Services,
    request: StreamingRequest,
    session: Session,
    source: Source,
    message: str,
    files: Sequence[FileStorage],
    centre_ids: Sequence[str],
    answers: Mapping[str, object] | None = None,
    sealed_to_all: bool = False,
) -> None:
    """Seal ``message``, ``answers`` and the streamed ``files`` to ``centre_ids`` and commit.

    The blobs of the files already exist. They are kept only once the rows that
    point to them are committed, so a failure at any step removes them when the
    request closes.
    """
    items: list[Item] = []
    written: list[EncryptedUpload] = []
    if message:
        pending, upload = _seal_text(services, request, message)
        items.append(("message", pending, None))
        written.extend([upload] if upload else [])
    if answers is not None:
        encoded = json.dumps(answers, ensure_ascii=False).encode("utf-8")
        items.append(("answers", seal_value(encoded), None))
    file_items, uploads = _file_items(files)
    items.extend(file_items)
    written.extend(uploads)

    record_submissions(session, source, items, centre_ids, sealed_to_all=sealed_to_all)
    session.commit()

    for upload in written:
        upload.keep()
    logger.info("submission recorded", extra={"items": len(items), "files": len(uploads)})

    if services.jobs is not None:
        services.jobs.enqueue("flush_notifications")
