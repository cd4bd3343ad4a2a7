from django.db import migrations

from oneforone.core.db import REFUSE_CHANGE_FUNCTION, append_only


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunSQL(
            REFUSE_CHANGE_FUNCTION, "DROP FUNCTION IF EXISTS oneforone_refuse_change();"
        ),
        append_only("core_auditevent"),
    ]
