"""The notification job: tell each centre by e-mail how much new activity waits.

Source submissions and forwarded cases add a :class:`~store.models.PendingNotification`
row per centre in the same transaction as the data, so a notification survives a
crash or an unreachable Redis. This job turns the rows into one e-mail per centre that
states a count and nothing else: no content, no source id, no designation.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from lumen.config import CentreConfig, SmtpConfig
from store.models import PendingNotification
from worker.mail_text import notification_text

if TYPE_CHECKING:
    from lumen.services import Services

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30


def flush_notifications(services: Services) -> int:
    """Send one count-only e-mail per centre with pending notifications; return how many went.

    Idempotent and safe to run in several processes at once: each centre's rows are
    claimed by deleting them before the e-mail goes out, so only the run whose delete
    removed them sends. When sending fails the rows are put back for the next run.
    With no SMTP host configured the rows stay where they are.
    """
    smtp = services.config.smtp
    if not smtp.host:
        return 0

    with services.sessions() as session:
        pending = session.execute(
            select(PendingNotification.centre_id, func.max(PendingNotification.id)).group_by(
                PendingNotification.centre_id
            )
        ).all()

    sent = 0
    for centre_id, newest_id in pending:
        count = _claim(services, centre_id, newest_id)
        if count == 0:
            continue

        try:
            centre = services.config.centre(centre_id)
        except KeyError:
            logger.warning(
                "pending notifications for an unconfigured centre dropped",
                extra={"centre": centre_id, "count": count},
            )
            continue
        if not centre.notify:
            continue

        try:
            _send(smtp, centre, count, services.config.caseworker_languages)
        except (smtplib.SMTPException, OSError) as error:
            _put_back(services, centre_id, count)
            logger.warning(
                "notification e-mail failed; it will be retried",
                extra={"centre": centre_id, "error": type(error).__name__},
            )
            continue

        sent += 1
        logger.info("notification e-mail sent", extra={"centre": centre_id, "count": count})

    return sent


def _claim(services: Services, centre_id: str, newest_id: int) -> int:
    with services.sessions() as session:
        result = session.execute(
            delete(PendingNotification).where(
                PendingNotification.centre_id == centre_id, PendingNotification.id <= newest_id
            )
        )
        session.commit()
    return int(getattr(result, "rowcount", 0))


def _put_back(services: Services, centre_id: str, count: int) -> None:
    with services.sessions() as session:
        session.add_all(PendingNotification(centre_id=centre_id) for _ in range(count))
        session.commit()


def _send(smtp: SmtpConfig, centre: CentreConfig, count: int, languages: tuple[str, ...]) -> None:
    language = next((lang for lang in centre.languages if lang in languages), "en")
    subject, body = notification_text(count, centre.name, language)

    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(centre.notify)
    message["Subject"] = subject
    message.set_content(body)

    with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username:
            client.login(smtp.username, smtp.password)
        client.send_message(message)
