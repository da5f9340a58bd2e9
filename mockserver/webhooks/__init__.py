"""Webhooks as the providers send them: signed, off the request path, retried on their schedules."""
