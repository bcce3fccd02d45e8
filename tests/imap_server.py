"""A real IMAP server for the tests and the benchmark: Debian's dovecot, started on a free
loopback port with a throw-away configuration, passwd-file users and maildirs in a
temporary folder (no TLS; plaintext logins are allowed on loopback). Runs as root (the mail
belongs to `nobody`) and as any other user (it belongs to that user)."""

import contextlib
import getpass
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"

CONFIG = """\
instance_name = accord-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
{sent}}}
first_valid_uid = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
SENT = """\
  mailbox "{name}" {{
    special_use = \\Sent
    auto = subscribe
  }}
"""


class Dovecot:
    """One running dovecot. `add_user`, then `append` messages to a user's folder and
    `recreate` a folder (a new UIDVALIDITY)."""

    def __init__(self, sent: str | None = "Sent") -> None:
        """`sent`: the folder every user has with the IMAP SPECIAL-USE flag \\Sent (a mail
        program's sent mail), None for none."""
        if not os.path.exists(DOVECOT):
            raise RuntimeError("dovecot is missing: run `make test-deps` (dovecot-imapd)")
        self.root = Path(tempfile.mkdtemp(prefix="accord-dovecot-"))
        self.root.chmod(0o755)  # the mail user (nobody, when root) walks into it
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.host = "127.0.0.1"
        self.users: dict[str, str] = {}
        if os.geteuid() == 0:
            login_user, internal_user = _known("dovenull"), _known("dovecot")
            internal_group = internal_user if internal_user != "nobody" else "nogroup"
            mail_uid, mail_gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
        else:  # everything runs as this user, its files in its group
            login_user = internal_user = getpass.getuser()
            internal_group = grp.getgrgid(os.getgid()).gr_name
            mail_uid, mail_gid = os.getuid(), os.getgid()
        for folder in ("run", "state", "mail"):
            (self.root / folder).mkdir()
        os.chown(self.root / "mail", mail_uid, mail_gid)
        (self.root / "passwd").write_text("")
        config = self.root / "dovecot.conf"
        config.write_text(CONFIG.format(
            root=self.root, port=self.port, login_user=login_user, internal_user=internal_user,
            sent=SENT.format(name=sent) if sent else "",
            internal_group=internal_group, mail_uid=mail_uid, mail_gid=mail_gid,
        ))  # fmt: skip
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot stopped: {self.process.stderr.read().decode()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.2),
            ):
                return
            time.sleep(0.02)
        raise RuntimeError("dovecot did not start within 10 s")

    def add_user(self, name: str, password: str) -> None:
        """Add a user, or change a user's password. Dovecot looks at the file's time at most
        once a second, at a login: each write moves the time on, and a write after the
        first waits for the next second, so the next login reads it."""
        again = bool(self.users)
        self.users[name] = password
        path = self.root / "passwd"
        path.write_text(
            "".join(f"{user}:{{PLAIN}}{secret}\n" for user, secret in self.users.items())
        )
        self._stamp = max(time.time(), getattr(self, "_stamp", 0) + 1)
        os.utime(path, (self._stamp, self._stamp))
        if again:
            time.sleep(1.01 - time.time() % 1)

    def connect(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port)
        client.login(user, self.users[user])
        return client

    def create(self, user: str, folder: str) -> None:
        """Make a folder for the user (IMAP CREATE)."""
        client = self.connect(user)
        try:
            typ, answer = client.create(_quoted(folder))
            assert typ == "OK", answer
        finally:
            client.logout()

    def break_folder(self, user: str, folder: str, broken: bool = True) -> None:
        """Make a folder one the server cannot read (its maildir closed to the mail
        user: dovecot answers NO [SERVERBUG] to STATUS and SELECT), or readable again."""
        (self.root / "mail" / user / f".{folder}").chmod(0 if broken else 0o700)

    def append(self, user: str, *messages: bytes, folder: str = "INBOX") -> None:
        """Put messages into the user's folder (IMAP APPEND), in order."""
        client = self.connect(user)
        try:
            for raw in messages:
                typ, answer = client.append(_quoted(folder), None, None, raw)
                assert typ == "OK", answer
        finally:
            client.logout()

    def recreate(self, user: str, folder: str = "INBOX") -> None:
        """Empty the folder under a new UIDVALIDITY, as a server does when it rebuilds it
        (INBOX cannot be deleted over IMAP: its maildir's UID list is removed instead)."""
        if folder == "INBOX":
            box = self.root / "mail" / user
            for name in ("dovecot-uidlist", "dovecot.index", "dovecot.index.cache",
                         "dovecot.index.log"):  # fmt: skip
                with contextlib.suppress(FileNotFoundError):
                    (box / name).unlink()
            for part in ("cur", "new"):
                for found in (box / part).glob("*"):
                    found.unlink()
            return
        client = self.connect(user)
        try:
            client.delete(_quoted(folder))
            client.create(_quoted(folder))
        finally:
            client.logout()

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        client = self.connect(user)
        try:
            _typ, data = client.status(_quoted(folder), "(UIDVALIDITY)")
        finally:
            client.logout()
        return int(data[0].split(b"UIDVALIDITY")[1].strip(b" )"))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _known(name: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return "nobody"
    return name


def _quoted(folder: str) -> str:
    """A folder's name as an IMAP command takes it (imaplib quotes nothing)."""
    return f'"{folder}"' if " " in folder else folder
