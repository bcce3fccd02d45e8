"""Log-in by e-mail (Django's ModelBackend) and a user loaded once per request with what
every request asks of it: the role, whether a second factor is set up, whether the
user heads a team. One query instead of four."""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.accounts.models import Team, User


def with_request_facts(users):
    return users.annotate(
        has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        has_recovery=Exists(StaticDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        heads_team=Exists(Team.objects.filter(head=OuterRef("pk"))),
    )


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        user = with_request_facts(User.objects.filter(pk=user_id)).first()
        return user if user is not None and self.user_can_authenticate(user) else None
