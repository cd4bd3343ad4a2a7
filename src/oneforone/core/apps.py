from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "oneforone.core"
    label = "core"
