import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('entitlements', '0004_entitlement_per_benefit_constraints'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='entitlementtransition',
            name='at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='时间'),
        ),
        migrations.AlterField(
            model_name='entitlementtransition',
            name='by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人'),
        ),
        migrations.AlterField(
            model_name='entitlementtransition',
            name='by_role',
            field=models.CharField(choices=[('system', '系统（部门数据核验）'), ('enterprise', '企业用户'), ('reviewer', '审核人'), ('data_officer', '数据专员'), ('policy_editor', '政策编辑')], default='system', max_length=16, verbose_name='操作角色'),
        ),
    ]
