"""Foreign keys whose own index duplicates the start of a composite index lose it (one index fewer to
keep up on every insert and to build after a bulk load). The indexes are dropped by name, not by
AlterField, which on SQLite would copy the whole table to drop an index."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_suspendedindex'),
        ('accounts', '0001_initial'),
        ('customers', '0012_search_phones_national'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='owner',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='owned_customers', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='team',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='customers', to='accounts.team', verbose_name='team'),
                ),
                migrations.AlterField(
                    model_name='statuschange',
                    name='customer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='customers.customer', verbose_name='customer'),
                ),
            ],
            database_operations=[
                # Left dropped by a bulk load that was killed: not to be built again from the record.
                migrations.RunSQL("DELETE FROM core_suspendedindex WHERE name IN ('customers_customer_owner_id_fbb2798e', 'customers_customer_team_id_677425ba', 'customers_statuschange_customer_id_71947a0f')",
                                  reverse_sql=migrations.RunSQL.noop),
                migrations.RunSQL("DROP INDEX IF EXISTS customers_customer_owner_id_fbb2798e",
                                  reverse_sql='CREATE INDEX customers_customer_owner_id_fbb2798e ON "customers_customer" ("owner_id")'),
                migrations.RunSQL("DROP INDEX IF EXISTS customers_customer_team_id_677425ba",
                                  reverse_sql='CREATE INDEX customers_customer_team_id_677425ba ON "customers_customer" ("team_id")'),
                migrations.RunSQL("DROP INDEX IF EXISTS customers_statuschange_customer_id_71947a0f",
                                  reverse_sql='CREATE INDEX customers_statuschange_customer_id_71947a0f ON "customers_statuschange" ("customer_id")'),
            ],
        ),
    ]
