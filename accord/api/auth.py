"""API authentication: personal bearer tokens, or the browser's session (with CSRF)."""

from ninja.security import HttpBearer, SessionAuth

from accord.accounts.queries import pending_login_step
from accord.accounts.services import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ActiveSession(SessionAuth):
    """The browser's session, once the whole login is done (second factor included).

    A caller that sent a bearer token, or has no session cookie, is not a browser: its
    request is not checked for CSRF, so a revoked or unknown token on a write answers
    401 like on a read (not 403 "CSRF check failed")."""

    def _get_key(self, request):
        if "Authorization" in request.headers or self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None or not user.is_active:
            return None
        verified = user.is_verified() if hasattr(user, "is_verified") else False
        return None if pending_login_step(user, verified=verified) else user
