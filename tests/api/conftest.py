"""API fixtures: clients holding a write key, a read key, or nothing."""

import pytest
from rest_framework.test import APIClient

from supportdesk.api.keys import api_key_create


def _client(raw: str | None = None) -> APIClient:
    client = APIClient()
    if raw:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def write_key(db) -> str:
    return api_key_create(name="store", scope="write").raw


@pytest.fixture
def read_key(db) -> str:
    return api_key_create(name="reports", scope="read").raw


@pytest.fixture
def api(write_key) -> APIClient:
    return _client(write_key)


@pytest.fixture
def read_api(read_key) -> APIClient:
    return _client(read_key)


@pytest.fixture
def anon_api(db) -> APIClient:
    return _client()


def error_of(response) -> dict:
    """The error body, checked for the one shape every 4xx shares."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]
