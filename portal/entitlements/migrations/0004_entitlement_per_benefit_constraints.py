# Last step: policy and period required, and the constraints, once every row has them (0003). Its own
# transaction: PostgreSQL refuses ALTER TABLE on rows with pending deferred foreign-key checks.
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    dependencies = [
        ('entitlements', '0003_entitlement_per_benefit_data'),
    ]

    operations = [
        migrations.AlterField(
            model_name='entitlement',
            name='policy',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entitlements', to='policies.policy'),
        ),
        migrations.AlterField(
            model_name='entitlement',
            name='period',
            field=models.CharField(max_length=8, verbose_name='兑现期'),
        ),
        migrations.AddConstraint(
            model_name='entitlement',
            constraint=models.UniqueConstraint(condition=models.Q(('duplicate_of__isnull', True)), fields=('enterprise', 'policy', 'period'), name='entitlement_once_per_benefit'),
        ),
        migrations.AddConstraint(
            model_name='entitlement',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['determined', 'notified', 'confirmed', 'objected', 'disbursed', 'revoked', 'pending_review'])), name='entitlement_status'),
        ),
    ]
