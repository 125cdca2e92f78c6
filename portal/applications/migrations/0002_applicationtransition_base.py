"""ApplicationTransition rows on the shared timeline base (portal.lifecycle.Transition): by_role added, filled in."""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion
import django.utils.timezone


APP, MODEL = "applications", "ApplicationTransition"

# Roles in the order portal.lifecycle.actor_role tries them (Django Groups named by the role code).
_STAFF_ROLES = ("reviewer", "data_officer", "policy_editor")


def by_role_from_groups(apps, schema_editor):
    """Rows written before by_role existed: the role their actor holds now (the best that is known)."""
    Transition = apps.get_model(APP, MODEL)
    for user_id in Transition.objects.exclude(by=None).values_list("by", flat=True).distinct():
        user = apps.get_model(settings.AUTH_USER_MODEL).objects.get(pk=user_id)
        held = set(user.groups.values_list("name", flat=True))
        role = next((r for r in _STAFF_ROLES if user.is_superuser or r in held), "enterprise")
        Transition.objects.filter(by=user_id).update(by_role=role)


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='applicationtransition',
            name='by_role',
            field=models.CharField(choices=[('system', '系统（部门数据核验）'), ('enterprise', '企业用户'), ('reviewer', '审核人'), ('data_officer', '数据专员'), ('policy_editor', '政策编辑')], default='system', max_length=16, verbose_name='操作角色'),
        ),
        migrations.AlterField(
            model_name='applicationtransition',
            name='at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='时间'),
        ),
        migrations.AlterField(
            model_name='applicationtransition',
            name='by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人'),
        ),
        migrations.AlterField(
            model_name='applicationtransition',
            name='from_status',
            field=models.CharField(blank=True, default='', max_length=16, verbose_name='原状态'),
        ),
        migrations.AlterField(
            model_name='applicationtransition',
            name='to_status',
            field=models.CharField(choices=[('submitted', '已提交'), ('accepted', '已受理'), ('approved', '已通过'), ('rejected', '未通过'), ('returned', '退回补正'), ('withdrawn', '已撤回')], max_length=16, verbose_name='新状态'),
        ),
        migrations.RunPython(by_role_from_groups, migrations.RunPython.noop),
    ]
