"""Where a screen sends the user back to: the `next` the page passed, if it is ours."""

from django.utils.http import url_has_allowed_host_and_scheme


def back_to(request, fallback: str) -> str:
    """The page to return to after a form posted from a card, the board or Today: the
    `next` of the form or the address when it points at this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback
