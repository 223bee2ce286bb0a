"""Foreign keys whose own index duplicates the start of a composite index lose it (one index fewer to
keep up on every insert and to build after a bulk load). The indexes are dropped by name, not by
AlterField, which on SQLite would copy the whole table to drop an index."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_suspendedindex'),
        ('activities', '0001_initial'),
        ('customers', '0012_search_phones_national'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='activity',
                    name='actor',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='activities', to=settings.AUTH_USER_MODEL, verbose_name='by'),
                ),
                migrations.AlterField(
                    model_name='activity',
                    name='customer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='activities', to='customers.customer', verbose_name='customer'),
                ),
            ],
            database_operations=[
                # Left dropped by a bulk load that was killed: not to be built again from the record.
                migrations.RunSQL("DELETE FROM core_suspendedindex WHERE name IN ('activities_activity_actor_id_c731e4c0', 'activities_activity_customer_id_3e7162d1')",
                                  reverse_sql=migrations.RunSQL.noop),
                migrations.RunSQL("DROP INDEX IF EXISTS activities_activity_actor_id_c731e4c0",
                                  reverse_sql='CREATE INDEX activities_activity_actor_id_c731e4c0 ON "activities_activity" ("actor_id")'),
                migrations.RunSQL("DROP INDEX IF EXISTS activities_activity_customer_id_3e7162d1",
                                  reverse_sql='CREATE INDEX activities_activity_customer_id_3e7162d1 ON "activities_activity" ("customer_id")'),
            ],
        ),
    ]
