"""The second login factor: enrol an authenticator, recovery codes, turn it off."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.accounts.models import User
from accord.core.events import emit

RECOVERY_CODES = 10


@transaction.atomic
def two_factor_pending_device(*, user: User):
    """The authenticator being enrolled (not confirmed yet), made on first ask."""

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


@transaction.atomic
def two_factor_enrol(*, user: User, device, code: str) -> list[str]:
    """Confirm the authenticator with a code from it; answers fresh recovery codes."""

    if not device.verify_token(code.replace(" ", "")):
        raise ValidationError(
            {"code": [_("That code is not right. Check the time on your phone and try again.")]}
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    emit("user.two_factor_enabled", user_id=user.pk)
    return codes


@transaction.atomic
def two_factor_disable(*, user: User, code: str) -> None:
    """Turn the second factor off, proven by a current code; not when the role requires it."""

    if user.role and user.role.require_two_factor:
        raise ValidationError(
            {"code": [_("Your role requires two-factor login; it cannot be turned off.")]}
        )
    if match_token(user, code.replace(" ", "")) is None:
        raise ValidationError({"code": [_("That code is not right; two-factor login stays on.")]})
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    emit("user.two_factor_disabled", user_id=user.pk)
