"""Shared API plumbing: error format, pagination."""
