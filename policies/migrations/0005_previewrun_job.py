from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('policies', '0004_benefit_period'),
    ]

    operations = [
        migrations.AddField(
            model_name='previewrun',
            name='claim',
            field=models.UUIDField(blank=True, null=True, verbose_name='领取标记'),
        ),
        migrations.AlterField(
            model_name='previewrun',
            name='processed',
            field=models.PositiveIntegerField(default=0, verbose_name='已处理'),
        ),
        migrations.AlterField(
            model_name='previewrun',
            name='status',
            field=models.CharField(choices=[('queued', '排队中'), ('running', '进行中'), ('done', '已完成'), ('failed', '失败')], default='queued', max_length=12, verbose_name='状态'),
        ),
        migrations.AlterField(
            model_name='previewrun',
            name='total',
            field=models.PositiveIntegerField(default=0, verbose_name='总量'),
        ),
    ]
