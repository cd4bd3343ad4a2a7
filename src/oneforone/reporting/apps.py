from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "oneforone.reporting"
    label = "reporting"
