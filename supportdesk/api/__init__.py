"""The REST API's shared plumbing: key authentication, scope permissions, the one error shape,
cursor pagination, allowlisted filters. The resources live in ``customers.api`` and ``tickets.api``;
``supportdesk.api.urls`` mounts them under ``/api/v1/``."""
