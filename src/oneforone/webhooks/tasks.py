from __future__ import annotations

import logging

from django.tasks import task

from oneforone.webhooks import delivery

logger = logging.getLogger(__name__)


@task()
def deliver_webhooks(delivery_ids: list[int]) -> int:
    """Attempt these deliveries (those due and not taken by another worker)."""
    attempted = 0
    for pk in delivery_ids:
        try:
            attempted += delivery.deliver(pk) is not None
        except Exception:
            # One delivery that cannot be sent (an unreadable secret, a database error) must not
            # hold up the others; it stays pending and the sweep tries it again.
            logger.exception("webhook delivery %s failed to send", pk)
    return attempted
