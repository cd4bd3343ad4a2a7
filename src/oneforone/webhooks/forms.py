from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from oneforone.webhooks.models import SUBSCRIBABLE


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",  # the same word in the three languages
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/oneforone/webhooks"}),
    )
    description = forms.CharField(max_length=200, required=False, label=_("Description"))
    events = forms.MultipleChoiceField(
        choices=[(t.value, format_lazy("{} ({})", t.label, t.value)) for t in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple(attrs={"style": "flex: none"}),
        label=_("Events"),
        error_messages={"required": _("Choose at least one event to receive.")},
    )
