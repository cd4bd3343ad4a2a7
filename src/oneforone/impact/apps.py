from django.apps import AppConfig


class ImpactConfig(AppConfig):
    name = "oneforone.impact"
    label = "impact"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from oneforone.impact import receivers
        from oneforone.recycling.models import LotAssay
        from oneforone.registry.models import IssuanceBatch

        post_save.connect(
            receivers.batch_issued, sender=IssuanceBatch, dispatch_uid="impact.batch_issued"
        )
        post_save.connect(
            receivers.assay_recorded, sender=LotAssay, dispatch_uid="impact.assay_recorded"
        )
