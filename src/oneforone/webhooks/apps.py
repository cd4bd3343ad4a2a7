from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "oneforone.webhooks"
    label = "webhooks"
