"""Deadline reminders leave through the task worker, after the run that decided them commits."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.tasks import task


@task()
def email_deadline_reminders(messages: list[list[object]]) -> int:
    """Send each [subject, body, recipients] reminder; returns how many e-mails went out."""
    datatuple = [
        (str(subject), str(body), settings.DEFAULT_FROM_EMAIL, list(recipients))  # type: ignore[call-overload]
        for subject, body, recipients in messages
    ]
    return send_mass_mail(datatuple, fail_silently=False)
