from django.apps import AppConfig


class ImpactConfig(AppConfig):
    name = "oneforone.impact"
    label = "impact"
