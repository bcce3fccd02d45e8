import pytest
from django.utils import timezone

from accord.accounts.models import User
from accord.core.pagination import InvalidCursor, keyset_page


@pytest.fixture
def people(db):
    # Three share one timestamp, so only the key can order them: ties must not be lost.
    moment = timezone.now()
    return [
        User.objects.create_user(f"user{n:02}@example.com", None, date_joined=moment)
        if n < 3
        else User.objects.create_user(f"user{n:02}@example.com", None)
        for n in range(7)
    ]


def walk(queryset, sort, limit):
    pages, cursor = [], None
    while True:
        page = keyset_page(queryset, sort=sort, cursor=cursor, limit=limit)
        pages.append([user.email for user in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize("sort", ["email", "-email", "date_joined", "-date_joined", "-id"])
def test_walking_the_pages_shows_every_row_once_in_order(people, sort):
    queryset = User.objects.all()
    expected = [user.email for user in queryset.order_by(sort, "-pk" if "-" in sort else "pk")]
    pages = walk(queryset, sort, limit=3)
    assert [email for page in pages for email in page] == expected
    assert [len(page) for page in pages] == [3, 3, 1]


def test_the_last_full_page_has_no_next_cursor(people):
    page = keyset_page(User.objects.all(), sort="email", limit=7)
    assert len(page.items) == 7
    assert page.next_cursor is None


def test_a_cursor_from_another_sort_or_garbage_is_refused(people):
    cursor = keyset_page(User.objects.all(), sort="email", limit=2).next_cursor
    with pytest.raises(InvalidCursor, match="another sort"):
        keyset_page(User.objects.all(), sort="-email", cursor=cursor)
    for garbage in ["!!!", "bm90IGpzb24", "eyJzIjoiZW1haWwiLCJ2IjpbMV19"]:
        with pytest.raises(InvalidCursor):
            keyset_page(User.objects.all(), sort="email", cursor=garbage)


def test_a_tampered_cursor_with_values_of_the_wrong_type_is_refused(people):
    import base64
    import json

    for values in [["x", "y"], ["x", 2**70], ["not-a-date", 1]]:
        sort = "date_joined" if values[0] == "not-a-date" else "email"
        raw = json.dumps({"s": sort, "v": values}).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        with pytest.raises(InvalidCursor):
            keyset_page(User.objects.all(), sort=sort, cursor=cursor)


@pytest.mark.parametrize("sort", ["-is_active,-date_joined", "is_active,email"])
def test_a_sort_of_several_fields_one_way_walks_every_row_once(people, sort):
    User.objects.filter(email__in=["user01@example.com", "user05@example.com"]).update(
        is_active=False
    )
    queryset = User.objects.all()
    fields = sort.split(",")
    expected = [user.email for user in queryset.order_by(*fields, "-pk" if "-" in sort else "pk")]
    pages = walk(queryset, sort, limit=3)
    assert [email for page in pages for email in page] == expected


def test_a_sort_of_fields_going_both_ways_is_refused(people):
    with pytest.raises(ValueError, match="same way"):
        keyset_page(User.objects.all(), sort="-is_active,email")
