"""Turning validation errors into the forms users and operators read."""

from django.core.exceptions import ValidationError

WAIVABLE = {"past", "absent"}  # warnings a caller may accept by sending allow_<code>


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """[{"field", "message"}] for a ValidationError; "" is the field of a general error. A
    warning the caller may accept also names its code ("past", "absent")."""
    if not hasattr(error, "error_dict"):
        return [{"field": "", "message": message} for message in error.messages]
    found = []
    for field, errors in error.error_dict.items():
        for item in errors:
            for message in item.messages:
                entry = {"field": "" if field == "__all__" else field, "message": message}
                if item.code in WAIVABLE:
                    entry["code"] = item.code
                found.append(entry)
    return found


def message_of(error: ValidationError) -> str:
    """A validation error's messages as one sentence for a page, a notice or a command."""
    return " ".join(str(message) for message in error.messages)


def one_line(error: ValidationError) -> str:
    return "; ".join(
        f"{item['field']}: {item['message']}" if item["field"] else item["message"]
        for item in field_errors(error)
    )


class StaleVersion(Exception):
    """Someone else saved the record first; the caller shows the conflict."""

    def __init__(self, current_version: int):
        super().__init__(f"the record is at version {current_version}")
        self.current_version = current_version
