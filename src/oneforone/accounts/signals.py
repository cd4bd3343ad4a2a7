"""Signing in remembers the language the person reads the site in, for the e-mails they get
later without a page open (a webhook endpoint disabled at night, say)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from oneforone.accounts import actions
from oneforone.accounts.models import User


@receiver(user_logged_in)
def remember_language(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Only a sign-in through a page carries a chosen language (set by LocaleMiddleware).
    language = getattr(request, "LANGUAGE_CODE", None)
    if isinstance(user, User) and language:
        actions.set_language(actor=user, language=language)
