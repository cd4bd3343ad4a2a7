from __future__ import annotations

from django.tasks import task

from oneforone.accounts.queries import system_user
from oneforone.registry.actions import render_certificate_document
from oneforone.registry.models import Certificate


@task()
def render_certificate_documents(codes: list[str]) -> int:
    actor = system_user()
    rendered = 0
    for certificate in Certificate.objects.filter(code__in=codes, document__isnull=True):
        render_certificate_document(actor=actor, certificate=certificate)
        rendered += 1
    return rendered
