"""API: the current user, colleagues, and personal API tokens."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status

from accord.accounts.queries import tokens_of, users_visible_to
from accord.accounts.services import token_create, token_revoke
from accord.api.pagination import ListParams, Page, paginate
from accord.api.problems import Problem
from accord.core.errors import field_errors

router = Router(tags=["users"])


class RoleOut(Schema):
    slug: str
    name: str


class UserOut(Schema):
    id: str
    email: str
    full_name: str
    role: RoleOut | None
    is_active: bool

    @staticmethod
    def resolve_id(user) -> str:
        return str(user.pk)


class MeOut(UserOut):
    language: str
    time_zone: str


class TokenOut(Schema):
    id: str
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_id(token) -> str:
        return str(token.pk)


class TokenIn(Schema):
    name: str


class NewTokenOut(TokenOut):
    token: str  # shown once, never again


@router.get("/me", response=MeOut, summary="The user making the request")
def me(request):
    return request.auth


@router.get("/users", response=Page[UserOut], summary="List users")
def users_list(request, params: Query[ListParams]):
    return paginate(
        users_visible_to(request.auth),
        params,
        sorts={"email", "date_joined", "id"},
        default_sort="email",
    )


@router.get("/users/{user_id}", response=UserOut, summary="One user")
def users_detail(request, user_id: int):
    return get_object_or_404(users_visible_to(request.auth), pk=user_id)


@router.get("/me/tokens", response=list[TokenOut], tags=["tokens"], summary="My API tokens")
def tokens_list(request):
    return list(tokens_of(request.auth))


@router.post(
    "/me/tokens",
    response={201: NewTokenOut},
    tags=["tokens"],
    summary="Create an API token (the secret is in this answer only)",
)
def tokens_create(request, payload: TokenIn):
    try:
        token, key = token_create(user=request.auth, name=payload.name)
    except ValidationError as error:
        raise Problem(422, "The token was not created.", errors=field_errors(error)) from None
    token.token = key
    return Status(201, token)


@router.delete(
    "/me/tokens/{token_id}", response={204: None}, tags=["tokens"], summary="Revoke a token"
)
def tokens_revoke(request, token_id: int):
    token_revoke(token=get_object_or_404(tokens_of(request.auth), pk=token_id))
    return Status(204, None)
