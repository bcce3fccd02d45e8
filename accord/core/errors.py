"""Turning validation errors into the forms users and operators read."""

from django.core.exceptions import ValidationError


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """[{"field", "message"}] for a ValidationError; "" is the field of a general error."""
    if hasattr(error, "error_dict"):
        return [
            {"field": "" if field == "__all__" else field, "message": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": message} for message in error.messages]


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
