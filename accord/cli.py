"""The `accord` command: serve, migrate, worker, demo, createuser, token, check.

Operators script these, so each failure ends with one line naming the reason and a
non-zero exit code, never a traceback. Django's modules are imported inside the functions,
after `setup_django` has read and checked the settings: imported at the top, a bad setting
would end in Django's traceback instead of our one line.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

EXIT_FAILED = 1
EXIT_CONFIG = 2


class Failure(Exception):
    """Stops the command with one line on stderr."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accord",
        description="Accord, a self-hosted CRM. Settings come from the environment "
        "(see README.md).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    serve = commands.add_parser(
        "serve", help="migrate, then serve the web app with a background worker"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not start a worker (run `accord worker` elsewhere)",
    )
    serve.add_argument("--workers", type=int, default=1, help="web server processes (1)")

    commands.add_parser("migrate", help="create or update the database tables")

    worker = commands.add_parser("worker", help="run background tasks")
    worker.add_argument("--batch", action="store_true", help="run what is queued, then exit")

    demo = commands.add_parser("demo", help="load the demo company")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="only when the database has no users yet (used by `make run`)",
    )

    create = commands.add_parser(
        "createuser", help="create a user (asks for what is not given as an option)"
    )
    create.add_argument("--email")
    create.add_argument("--password", help="the password (prefer the prompt: it is not logged)")
    create.add_argument("--role", help="role slug, e.g. administrator, manager")
    create.add_argument("--name", default=None, help="full name")

    token = commands.add_parser("token", help="manage personal API tokens")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION")
    token_commands.required = True
    token_create = token_commands.add_parser("create", help="make a token and print it once")
    token_create.add_argument("--user", required=True, help="the user's e-mail")
    token_create.add_argument("--name", required=True, help="what the token is for")
    token_list = token_commands.add_parser("list", help="list a user's tokens")
    token_list.add_argument("--user", required=True, help="the user's e-mail")
    token_revoke = token_commands.add_parser("revoke", help="revoke a token by its id")
    token_revoke.add_argument("--user", required=True, help="the user's e-mail")
    token_revoke.add_argument("--id", required=True, type=int, help="the token id (see list)")

    importing = commands.add_parser(
        "import", help="import people or companies from a CSV or XLSX file"
    )
    importing.add_argument("file", help="the .csv or .xlsx file")
    importing.add_argument("--type", default="people", choices=["people", "companies"])
    importing.add_argument(
        "--map", default="", help='a JSON file {"column title": "field"} (default: by titles)'
    )
    importing.add_argument("--dry-run", action="store_true", help="report, save nothing")
    importing.add_argument("--user", default="", help="whose import (default: an administrator)")
    importing.add_argument(
        "--match-by",
        choices=["email", "phone", "external_id", ""],
        help="find duplicates (by any of the e-mail, phone and external id); '' for none",
    )
    importing.add_argument("--on-duplicate", default="skip", choices=["skip", "update", "create"])
    importing.add_argument("--encoding", default="", help="utf-8, utf-16, cp1251 (default: found)")
    importing.add_argument("--delimiter", default="", help="the CSV delimiter (default: found)")
    importing.add_argument(
        "--no-automation", action="store_true", help="the imported clients start no rule"
    )
    importing.add_argument(
        "--region",
        default="",
        help="the country of phone numbers without a +code, e.g. IL (default: ACCORD_PHONE_REGION)",
    )

    exporting = commands.add_parser("export", help="export people or companies to a file")
    exporting.add_argument("--type", default="people", choices=["people", "companies"])
    exporting.add_argument("--format", default="csv", choices=["csv", "xlsx"])
    exporting.add_argument("--out", required=True, help="the file to write")
    exporting.add_argument("--user", default="", help="whose view (default: an administrator)")

    export_all = commands.add_parser(
        "export-all", help="write every record as JSON Lines (to take to another system)"
    )
    export_all.add_argument("path", nargs="?", default="-", help="the file (default: stdout)")

    blueprint = commands.add_parser("blueprint", help="list or install ready-made automation rules")
    blueprint.add_argument("action", choices=["list", "install"])
    blueprint.add_argument("name", nargs="?", default="", help="the blueprint to install")
    blueprint.add_argument("--user", default="", help="whose rules (default: an administrator)")

    backup = commands.add_parser(
        "backup", help="back up the database and files into one archive (while running)"
    )
    backup.add_argument("path", nargs="?", default="", help="the archive (default: under var/)")
    restore = commands.add_parser("restore", help="restore a backup into an empty instance")
    restore.add_argument("path", help="the archive made by accord backup")

    check = commands.add_parser("check", help="check settings, the database and migrations")
    check.add_argument("--deploy", action="store_true", help="also run Django's production checks")

    manage = commands.add_parser(
        "manage", help="run any Django management command (for developers)"
    )
    manage.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        setup_django()
        return COMMANDS[args.command](args) or 0
    except Failure as failure:
        print(f"accord: {failure}", file=sys.stderr)
        return failure.code
    except KeyboardInterrupt:
        return 130


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as error:
        raise Failure(f"configuration error: {error}", EXIT_CONFIG) from None


def require_database() -> None:
    """Fail fast, in one line, when the database cannot be reached."""
    from django.db import connection
    from django.db.utils import Error

    try:
        connection.ensure_connection()
    except Error as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise Failure(f"cannot reach the database {database_label()}: {reason}") from None


def database_label() -> str:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        return str(database["NAME"])
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.password:  # never print a password
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        url = urlunsplit(parts._replace(netloc=netloc))
    return url


def django_command(command: str, *args, **options) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command(command, *args, **options)
    except CommandError as error:
        raise Failure(str(error)) from None


def cmd_migrate(args) -> int:
    require_database()
    django_command("migrate", interactive=False, verbosity=1)
    return 0


def cmd_worker(args) -> int:
    require_database()
    django_command("worker", batch=args.batch)
    return 0


def cmd_demo(args) -> int:
    require_database()
    django_command("migrate", interactive=False, verbosity=0)
    django_command("demo", if_empty=args.if_empty)
    return 0


def cmd_createuser(args) -> int:
    require_database()
    options = {"email": args.email, "password": args.password, "role": args.role}
    if args.name is not None:
        options["full_name"] = args.name
    django_command("createuser", **options)
    return 0


def cmd_token(args) -> int:
    require_database()
    django_command("token", args.token_command, user=args.user, **token_options(args))
    return 0


def token_options(args) -> dict:
    if args.token_command == "create":  # noqa: S105 (a subcommand, not a secret)
        return {"name": args.name}
    if args.token_command == "revoke":  # noqa: S105
        return {"token_id": args.id}
    return {}


def cmd_check(args) -> int:
    require_database()
    django_command("check", deploy=args.deploy, fail_level="WARNING")
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise Failure(f"{len(pending)} database migrations are not applied; run `accord migrate`.")
    print(f"Accord is ready: settings valid, database {database_label()} reachable, up to date.")
    return 0


def cmd_manage(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["accord manage", *args.args])
    return 0


def cmd_serve(args) -> int:
    from django.conf import settings

    shown_host = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host  # noqa: S104
    if listening(shown_host, args.port):
        raise Failure(
            f"port {args.port} is taken by another program: choose another with --port "
            f"(make run PORT={args.port + 1})"
        )
    require_database()
    django_command("migrate", interactive=False, verbosity=0)
    if not settings.DEBUG:
        django_command("collectstatic", interactive=False, verbosity=0)
    web = [
        sys.executable, "-m", "granian", "--interface", "wsgi",
        "--host", args.host, "--port", str(args.port),
        "--workers", str(args.workers), "--blocking-threads", "4",
        "--no-ws", "--log-level", "warning",
        "accord.wsgi:application",
    ]  # fmt: skip
    worker = None if args.no_worker else [sys.executable, "-m", "accord.cli", "worker"]
    supervisor = Supervisor(web=web, worker=worker)
    if supervisor.wait_listening(shown_host, args.port):
        print(f"Accord is running at http://{shown_host}:{args.port}/  (Ctrl+C stops it)",
              flush=True)  # fmt: skip
    return supervisor.run()


def listening(host: str, port: int) -> bool:
    """Whether something accepts connections there."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Supervisor:
    """Keeps the web server and the worker running until asked to stop.

    The web server is the instance: when it stops, everything stops. The worker is not:
    a worker that dies is logged and started again after a pause that doubles (1 s, 2 s,
    4 s ... up to a minute) and starts over once a worker has run for a while, so the
    web keeps answering whatever a background job does.
    """

    PAUSE_FIRST = 1.0
    PAUSE_MAX = 60.0
    HEALTHY_AFTER = 60.0  # seconds a worker runs before its pause starts over
    POLL = 0.5

    def __init__(self, *, web: list[str], worker: list[str] | None):
        self.web_argv = web
        self.worker_argv = worker
        self.stopping = False
        self.pause = self.PAUSE_FIRST
        self.web = subprocess.Popen(web)  # noqa: S603 (fixed argv, no shell)
        self.worker: subprocess.Popen | None = None
        self.worker_started = 0.0
        self.restart_at: float | None = None
        if worker:
            self.start_worker()

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(self.worker_argv)  # noqa: S603
        self.worker_started = time.monotonic()
        self.restart_at = None

    def wait_listening(self, host: str, port: int, timeout: float = 120.0) -> bool:
        """Wait until the web server accepts connections (so the address printed works
        when it is printed); False when it stopped first, or took too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.web.poll() is None:
            if listening(host, port):
                return True
            time.sleep(0.1)
        return False

    def run(self) -> int:
        def stop(signum, frame):
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        code = 0
        while not self.stopping:
            if self.web.poll() is not None:
                code = self.web.returncode or EXIT_FAILED
                stopped = f"accord: the web server stopped (exit {self.web.returncode})"
                print(stopped, file=sys.stderr)
                break
            self.watch_worker()
            time.sleep(self.POLL)
        self.stop_all()
        return 0 if self.stopping else code

    def watch_worker(self) -> None:
        now = time.monotonic()
        if self.worker is not None and self.worker.poll() is not None:
            if now - self.worker_started >= self.HEALTHY_AFTER:
                self.pause = self.PAUSE_FIRST
            print(
                f"accord: the worker stopped (exit {self.worker.returncode}); "
                f"starting it again in {self.pause:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            self.worker = None
            self.restart_at = now + self.pause
            self.pause = min(self.pause * 2, self.PAUSE_MAX)
        if self.restart_at is not None and now >= self.restart_at:
            self.start_worker()
            started = f"accord: the worker started again (pid {self.worker.pid})"
            print(started, file=sys.stderr, flush=True)

    def stop_all(self) -> None:
        children = [p for p in (self.web, self.worker) if p is not None]
        for process in children:
            if process.poll() is None:
                process.terminate()
        for process in children:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def cmd_import(args) -> int:
    require_database()
    django_command(
        "importfile",
        args.file,
        record_type=args.type,
        map_file=args.map,
        dry_run=args.dry_run,
        user=args.user,
        match_by=args.match_by,
        on_duplicate=args.on_duplicate,
        encoding=args.encoding,
        delimiter=args.delimiter,
        no_automation=args.no_automation,
        region=args.region,
    )
    return 0


def cmd_export(args) -> int:
    require_database()
    django_command(
        "exportfile", record_type=args.type, fmt=args.format, out=args.out, user=args.user
    )
    return 0


def cmd_export_all(args) -> int:
    require_database()
    django_command("exportall", args.path)
    return 0


def cmd_blueprint(args) -> int:
    require_database()
    if args.action == "install" and not args.name:
        raise Failure("name the blueprint to install (accord blueprint list shows them)")
    django_command("blueprint", args.action, args.name, user=args.user)
    return 0


def cmd_backup(args) -> int:
    require_database()
    django_command("backup", args.path)
    return 0


def cmd_restore(args) -> int:
    require_database()
    django_command("restore", args.path)
    return 0


COMMANDS = {
    "serve": cmd_serve,
    "blueprint": cmd_blueprint,
    "backup": cmd_backup,
    "export-all": cmd_export_all,
    "restore": cmd_restore,
    "import": cmd_import,
    "export": cmd_export,
    "migrate": cmd_migrate,
    "worker": cmd_worker,
    "demo": cmd_demo,
    "createuser": cmd_createuser,
    "token": cmd_token,
    "check": cmd_check,
    "manage": cmd_manage,
}

if __name__ == "__main__":
    sys.exit(main())
