from django.db import migrations

from oneforone.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("recycling", "0001_initial"), ("core", "0002_append_only")]

    operations = [append_only("recycling_reception"), append_only("recycling_treatmentcompletion")]
