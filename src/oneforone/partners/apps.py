from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "oneforone.partners"
    label = "partners"
