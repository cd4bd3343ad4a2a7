"""Seed the dated code lists (shipments/code_data.py): Basel, H, R/D, List of Waste with the
2026-12-09 battery changes, HS 8549, UN numbers, packing instructions, packaging, physical
characteristics and means of transport."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from oneforone.shipments.code_data import CODE_ENTRIES


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Code = apps.get_model("shipments", "Code")
    present = set(Code.objects.values_list("code_list", "code", "valid_from"))
    Code.objects.bulk_create(
        Code(**entry._asdict())
        for entry in CODE_ENTRIES
        if (entry.code_list, entry.code, entry.valid_from) not in present
    )


class Migration(migrations.Migration):
    dependencies = [("shipments", "0003_notifications")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
