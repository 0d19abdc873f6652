import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0004_grant_product_note_permissions")]

    operations = [
        migrations.AddField(
            model_name="productknowledge",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(
                editable=False,
                help_text="PostgreSQL only: weighted title/keywords/body tsvector (GIN indexed).",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="productknowledge",
            name="embedding",
            field=models.BinaryField(
                blank=True,
                editable=False,
                help_text="One unit vector per search passage.",
                null=True,
            ),
        ),
    ]
