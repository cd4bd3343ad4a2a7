from __future__ import annotations

from django import forms

from oneforone.webhooks.models import SUBSCRIBABLE


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/oneforone/webhooks"}),
    )
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(
        choices=[(t.value, f"{t.label} ({t.value})") for t in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple(attrs={"style": "flex: none"}),
        error_messages={"required": "Choose at least one event to receive."},
    )
