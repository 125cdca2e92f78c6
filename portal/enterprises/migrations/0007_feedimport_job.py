from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0006_enterprise_counts_social_insurance_patents_rd_staff'),
    ]

    operations = [
        migrations.AddField(
            model_name='feedimport',
            name='claim',
            field=models.UUIDField(blank=True, null=True, verbose_name='领取标记'),
        ),
        migrations.AlterField(
            model_name='feedimport',
            name='status',
            field=models.CharField(choices=[('queued', '排队中'), ('running', '进行中'), ('done', '已完成'), ('failed', '失败')], default='done', max_length=12, verbose_name='状态'),
        ),
        migrations.AlterField(
            model_name='feedimport',
            name='total',
            field=models.PositiveIntegerField(default=0, verbose_name='总量'),
        ),
    ]
