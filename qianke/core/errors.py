"""One application error hierarchy, mapped to one JSON error shape in the API and field errors in forms."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class QiankeError(Exception):
    """Base of every error a service raises on purpose. `status` is the HTTP status the API answers."""

    status = 400
    code = "error"

    def __init__(self, message=None, *, fields: dict[str, list[str]] | None = None, code: str | None = None,
                 extra: dict | None = None):
        self.message = message or _("The request could not be completed.")
        self.fields = fields or {}
        self.extra = extra or {}
        if code:
            self.code = code
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": str(self.message)}
        if self.fields:
            body["fields"] = {name: [str(m) for m in messages] for name, messages in self.fields.items()}
        body.update(self.extra)
        return body


class ValidationFailed(QiankeError):
    status = 422
    code = "validation_error"

    def __init__(self, fields: dict[str, list[str]], message=None, **kwargs):
        super().__init__(message or _("Please correct the errors below."), fields=fields, **kwargs)


class NotFound(QiankeError):
    """Also raised for records that exist but that the actor may not see: never reveal them."""

    status = 404
    code = "not_found"

    def __init__(self, message=None, **kwargs):
        super().__init__(message or _("Not found."), **kwargs)


class PermissionDenied(QiankeError):
    """For actions on records the actor can see but may not change (e.g. archiving as a rep)."""

    status = 403
    code = "permission_denied"

    def __init__(self, message=None, **kwargs):
        super().__init__(message or _("You do not have permission to do this."), **kwargs)


class Conflict(QiankeError):
    status = 409
    code = "conflict"


class NeedsConfirmation(Conflict):
    """The write looks like a mistake (e.g. a likely duplicate); repeat it with confirm=True to proceed."""

    code = "needs_confirmation"
