import datetime as dt

from django.db import migrations

from oneforone.impact.seed import load_2026_1

PUBLISHED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    load_2026_1(
        apps.get_model("impact", "MethodologyVersion"),
        apps.get_model("impact", "Factor"),
        apps.get_model("impact", "Rule"),
        PUBLISHED_AT,
    )


class Migration(migrations.Migration):
    dependencies = [("impact", "0002_frozen_versions")]

    # A published version cannot be deleted (the trigger refuses): no way back.
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
