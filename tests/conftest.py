"""Shared fixtures: standing users, an API client with a real token."""

import pytest
from django.test import Client

from accord.accounts.services import token_create, user_create
from tests.instances import Instances

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def fresh_security_policy():
    # The cached policy outlives each test's database rollback; start every test without it.
    from django.core.cache import cache

    from accord.accounts.models import SecurityPolicy

    cache.delete(SecurityPolicy.CACHE_KEY)


@pytest.fixture(autouse=True)
def company_set_up(settings):
    # Most tests log an administrator in and go straight to work; the company's first
    # step (tests/accounts/test_company.py) turns the question back on.

    from accord.core.models import CompanyProfile

    settings.ACCORD_COMPANY_FIRST_STEP = False
    # A slow test outlasts the 10 s a process keeps the profile, and a test that travels
    # in time (hours, years) outlasts any shorter lifetime: a read more in the middle
    # would make query counts differ (each save deletes the copy, as in production).
    settings.ACCORD_PROFILE_CACHE_SECONDS = 100 * 365 * 24 * 3600
    CompanyProfile.forget()


@pytest.fixture(autouse=True)
def fresh_rules(monkeypatch):
    # Each process keeps the automation rules for a few seconds; each test has its own,
    # read afresh and kept for the whole test: a slow test (a loaded machine) reading them
    # again in the middle would make its query counts differ (a saved rule forgets them
    # when its transaction commits).
    from accord.automation import engine

    monkeypatch.setattr(engine, "RULES_TTL", 3600.0)
    engine.forget_rules()


@pytest.fixture(autouse=True)
def default_language():
    # Django's LocaleMiddleware activates a request's language on the thread and leaves
    # it (a server's next request sets its own); in tests the next test would inherit it.
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def backups_in_process(settings):
    # A backup runs as `accord backup` beside the worker; a child process would not see a
    # test's settings (its data dir, its database). tests/transfer/test_backups.py tries it.
    settings.ACCORD_BACKUP_APART = False


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

    def put_json(self, path, data, **extra):
        return self.put(path, data, content_type="application/json", **extra)

    def patch_json(self, path, data, **extra):
        return self.patch(path, data, content_type="application/json", **extra)


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


class SmtpSink(list):
    """What a test SMTP server received (email.message.Message objects, in order), with
    each message's envelope recipients and how many connections it took."""

    def __init__(self, port: int):
        super().__init__()
        self.port = port
        self.envelopes: list[list[str]] = []
        self.connections = 0


@pytest.fixture
def smtp_factory():
    """Start real SMTP servers on 127.0.0.1 (aiosmtpd), each answering as told:
    `rcpt_answers` {address: "550 5.1.1 No such user"}, `data_answer` ("451 4.3.0 Try
    later", "550 5.7.1 Rejected"), `users` {name: password} to require a login (others are
    refused with 535), `vanish_after_data` to drop the connection once the message is in."""
    import logging
    import socket
    from email import message_from_bytes

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    # aiosmtpd's thread logs a client's end of line (INFO) on "mail.log", at times after
    # pytest closed the stream it captured: "--- Logging error ---" noise in the output.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controllers = []

    def start(*, rcpt_answers=None, data_answer=None, users=None, vanish_after_data=False):
        with socket.socket() as probe:  # a free port (aiosmtpd does not report one it picked)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        sink = SmtpSink(port)

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                sink.connections += 1
                session.host_name = hostname
                return responses

            async def handle_RCPT(self, server, session, envelope, address, options):
                answer = (rcpt_answers or {}).get(address)
                if answer:
                    return answer
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                if data_answer:
                    return data_answer
                sink.append(message_from_bytes(envelope.content))
                sink.envelopes.append(list(envelope.rcpt_tos))
                if vanish_after_data:
                    server.transport.abort()
                return "250 OK: queued"

        def authenticator(server, session, envelope, mechanism, auth_data):
            known = (
                isinstance(auth_data, LoginPassword)
                and (users or {}).get(auth_data.login.decode()) == auth_data.password.decode()
            )
            return AuthResult(success=known, handled=False)

        options = {}
        if users is not None:
            options = {"authenticator": authenticator, "auth_required": True,
                       "auth_require_tls": False}  # fmt: skip
        controller = Controller(Handler(), hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return sink

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def dovecot(request):
    """A real IMAP server (Debian's dovecot) on a free loopback port, with a throw-away
    configuration and maildirs: `add_user`, `append`, `recreate` (tests/imap_server.py).
    Every user has a folder "Sent" marked \\Sent (SPECIAL-USE); a test names another, or
    None, by parametrising the fixture indirectly."""
    from tests.imap_server import Dovecot

    server = Dovecot(sent=getattr(request, "param", "Sent"))
    yield server
    server.stop()


@pytest.fixture
def smtp_server(settings, smtp_factory):
    """A real SMTP server on 127.0.0.1 (aiosmtpd); Accord's mailer points at it. The
    messages it received are in the returned list, as email.message.Message objects."""
    sink = smtp_factory()
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": sink.port, "timeout": 5},
    }}  # fmt: skip
    settings.EMAIL_ENABLED = True
    return sink


def run_worker() -> int:
    """The worker's turn, here and now: each job on the database queue run as
    `accord worker` runs it (its task called, its result recorded) until none is left.
    Answers how many jobs ran."""
    from django_tasks_db.models import DBTaskResult

    ran = 0
    while (job := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        job.claim("tests")
        result = job.task_result
        job.set_successful(job.task.call(*result.args, **result.kwargs))
        ran += 1
    return ran


@pytest.fixture(scope="session")
def made_instances(tmp_path_factory):
    return Instances(tmp_path_factory)


@pytest.fixture
def instance(made_instances):
    """`instance(kind, folder)`: a migrated ("migrated") or demo ("demo") Accord instance
    copied into `folder`, for tests that run the `accord` command on it."""
    return made_instances.copy
