from django.db import migrations

PURPOSES = [
    (
        "personalization",
        "Personalised service",
        "We use what you bought and browsed to tailor the help we give you.",
        "legitimate_interest",
        True,
    ),
    (
        "marketing",
        "Offers and reminders",
        "We may send you offers, reminders about your cart and discounts.",
        "consent",
        False,
    ),
    (
        "behavioral_tracking",
        "Browsing history",
        "We keep a record of the pages and products you view in our store.",
        "consent",
        False,
    ),
    (
        "surveys",
        "Satisfaction surveys",
        "After we help you, we may ask how we did.",
        "legitimate_interest",
        True,
    ),
]


def create_purposes(apps, schema_editor):
    ConsentPurpose = apps.get_model("customers", "ConsentPurpose")
    ConsentWording = apps.get_model("customers", "ConsentWording")
    for position, (code, name, description, basis, default) in enumerate(PURPOSES):
        purpose, _ = ConsentPurpose.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "lawful_basis": basis,
                "default_granted": default,
                "position": position,
            },
        )
        ConsentWording.objects.get_or_create(purpose=purpose, version=1, defaults={"text": purpose.description})


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(create_purposes, migrations.RunPython.noop)]
