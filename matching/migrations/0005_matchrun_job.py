"""Match runs share the job status set (portal.jobs.JobStatus): a run waiting for a worker is "queued"."""

from django.db import migrations, models


def pending_to_queued(apps, schema_editor):
    apps.get_model("matching", "MatchRun").objects.filter(status="pending").update(status="queued")


def queued_to_pending(apps, schema_editor):
    apps.get_model("matching", "MatchRun").objects.filter(status="queued").update(status="pending")


class Migration(migrations.Migration):

    dependencies = [
        ('matching', '0004_match_profile_counts_social_insurance_patents_rd_staff'),
    ]

    operations = [
        migrations.AlterField(
            model_name='matchrun',
            name='finished_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='完成时间'),
        ),
        migrations.AlterField(
            model_name='matchrun',
            name='status',
            field=models.CharField(choices=[('queued', '排队中'), ('running', '进行中'), ('done', '已完成'), ('failed', '失败')], default='queued', max_length=12, verbose_name='状态'),
        ),
        migrations.RunPython(pending_to_queued, queued_to_pending),
    ]
