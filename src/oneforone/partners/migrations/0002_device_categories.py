import datetime as dt

from django.db import migrations

# Units owed per device: a phone is compensated by one collected phone; a laptop by about three
# (EUR 15 vs EUR 5 a device, Reuters 2021; DOMAIN.md section 1). Tablet: two, an assumption.
CATEGORIES = [
    ("phone", "Phone", 1, "one collected phone per phone (Closing the Loop FAQ)"),
    ("tablet", "Tablet", 2, "assumption pending measured tablet mass; configurable"),
    ("laptop", "Laptop", 3, "EUR 15 vs EUR 5 a phone (Reuters 2021): about three phone-units"),
]


def add_categories(apps, schema_editor):
    DeviceCategory = apps.get_model("partners", "DeviceCategory")
    for code, name, units, source in CATEGORIES:
        DeviceCategory.objects.create(
            code=code,
            name=name,
            units_per_device=units,
            valid_from=dt.date(2020, 1, 1),
            source=source,
        )


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
