"""Organisations get a unified social credit code (统一社会信用代码): the text as typed and its canonical
18 characters beside it, with an index over the customers that have one.

The columns are added with ALTER TABLE … ADD COLUMN … DEFAULT '' on both databases: Django's AddField
would copy the whole customer table on SQLite (twice: once per column) because of the NOT NULL
default; PostgreSQL adds a column with a constant default without rewriting the table either way.
The database keeps the default '' (harmless: every write names the columns).
"""

from django.db import migrations, models

COLUMNS = (("credit_code", 30), ("credit_code_norm", 18))


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0009_search_syllable_pairs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'ALTER TABLE "customers_customer" ADD COLUMN "{name}" varchar({size}) DEFAULT \'\' NOT NULL',
                    f'ALTER TABLE "customers_customer" DROP COLUMN "{name}"',
                )
                for name, size in COLUMNS
            ],
            state_operations=[
                migrations.AddField(
                    model_name="customer",
                    name="credit_code",
                    field=models.CharField(blank=True, max_length=30, verbose_name="unified social credit code"),
                ),
                migrations.AddField(
                    model_name="customer",
                    name="credit_code_norm",
                    field=models.CharField(blank=True, default="", editable=False, max_length=18),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(condition=models.Q(("credit_code_norm", ""), _negated=True),
                               fields=["credit_code_norm"], name="customer_credit_code_idx"),
        ),
    ]
