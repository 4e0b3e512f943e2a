"""Loyalty's own notice table folds into the member inbox (jishi/notify): rows are copied, once."""

from django.db import migrations


def copy_notices(apps, schema_editor):  # type: ignore[no-untyped-def]
    Notice = apps.get_model("loyalty", "Notice")
    Message = apps.get_model("notify", "Message")
    batch = []
    for n in Notice.objects.order_by("id").iterator(chunk_size=2000):
        batch.append(
            Message(
                user_id=n.user_id,
                category="system",
                title=n.title[:100],
                body=n.body,
                link="/loyalty/",
                key=f"loyalty_notice:{n.pk}",
                read_at=n.read_at,
                created_at=n.created_at,
            )
        )
        if len(batch) >= 2000:
            Message.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Message.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0005_merge_mall_item_image"),
        ("notify", "0005_delivery_vendor_id_128"),
    ]

    operations = [
        migrations.RunPython(copy_notices, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notice"),
    ]
