from django.db import migrations

POLICIES = [
    ("Urgent", "urgent", 30, 4 * 60),
    ("High", "high", 60, 8 * 60),
    ("Normal", "normal", 4 * 60, 24 * 60),
    ("Low", "low", 8 * 60, 72 * 60),
]


def create_policies(apps, schema_editor):
    SLAPolicy = apps.get_model("tickets", "SLAPolicy")
    for name, priority, first, resolution in POLICIES:
        if not SLAPolicy.objects.filter(priority=priority, active=True).exists():
            SLAPolicy.objects.create(
                name=name, priority=priority, first_response_minutes=first, resolution_minutes=resolution
            )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
