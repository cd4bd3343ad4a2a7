from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    name = "oneforone.core"
    label = "core"

    def ready(self) -> None:
        from oneforone.core import ratelimit

        checks.register(ratelimit.check_rate_limits)
