"""Huiqi (惠企通) Django project: settings, urls, Celery app and the portal's own apps."""

from .celery import app as celery_app

__all__ = ("celery_app",)
