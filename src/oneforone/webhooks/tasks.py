from __future__ import annotations

from django.tasks import task

from oneforone.webhooks import delivery


@task()
def deliver_webhooks(delivery_ids: list[int]) -> int:
    """Attempt these deliveries (those due and not taken by another worker)."""
    return sum(1 for pk in delivery_ids if delivery.deliver(pk) is not None)
