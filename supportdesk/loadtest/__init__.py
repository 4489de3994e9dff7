"""The load test: ``python manage.py loadtest`` (see docs/performance.md, "Load test")."""
