"""Shared fixtures: standing users, an API client with a real token."""

import pytest
from django.test import Client

from accord.accounts.services import token_create, user_create

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def fresh_security_policy():
    # The cached policy outlives each test's database rollback; start every test without it.
    from django.core.cache import cache

    from accord.accounts.models import SecurityPolicy

    cache.delete(SecurityPolicy.CACHE_KEY)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests/test_security_settings.py checks production uses it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    # Tests render templates without `collectstatic`; production uses the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def owner(db):
    return user_create(
        email="olivia@example.com", password=PASSWORD, role="manager", full_name="Olivia Owner"
    )


@pytest.fixture
def manager_client(owner):
    client = Client()
    assert log_in(client, owner.email)
    return client


@pytest.fixture
def admin_client(admin):
    client = Client()
    assert log_in(client, admin.email)
    return client


@pytest.fixture
def admin(db):
    return user_create(
        email="ada@example.com", password=PASSWORD, role="administrator", full_name="Ada Admin"
    )


class ApiClient(Client):
    """A test client that talks to /api/v1/ with a bearer token."""

    def __init__(self, token: str | None):
        super().__init__(headers={"Authorization": f"Bearer {token}"} if token else {})

    def post_json(self, path, data, **extra):
        return self.post(path, data, content_type="application/json", **extra)


@pytest.fixture
def api(owner):
    _token, key = token_create(user=owner, name="tests")
    return ApiClient(key)


@pytest.fixture
def anonymous_api(db):
    return ApiClient(None)


def log_in(client: Client, email: str, password: str = PASSWORD) -> bool:
    """Log in through the login page, as a person does (throttling and all)."""
    response = client.post("/login/", {"username": email, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session
