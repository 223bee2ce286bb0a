from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class ArchivableModel(models.Model):
    """Records are archived (soft-deleted), never deleted, so their history stays complete."""

    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class SettingsSingleton(models.Model):
    """A settings row that exists once (pk 1). Until an administrator saves it, `load()` returns the
    unsaved defaults, so reads never write."""

    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        abstract = True

    @classmethod
    def load(cls):
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class AuditLog(models.Model):
    """Who did what, when, from what to what. Written by services inside their transaction."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        ARCHIVE = "archive", _("Archived")
        RESTORE = "restore", _("Restored")
        OWNER_CHANGE = "owner_change", _("Owner changed")
        DELETE = "delete", _("Deleted")
        IMPORT = "import", _("Imported")
        EXPORT = "export", _("Exported")
        MERGE = "merge", _("Merged")
        UNDO = "undo", _("Undone")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # The customer a contact or activity belongs to, so the customer's history tab shows them all.
    customer_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    class Source(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("API")
        CLI = "cli", _("Command line")
        JOB = "job", _("Background job")

    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.WEB)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["customer_id", "created_at"]),
        ]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class CustomFieldDefinition(models.Model):
    """An administrator-defined extra field, stored in the owning model's `custom` JSON column."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        LONGTEXT = "longtext", _("Long text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTICHOICE = "multichoice", _("Multiple choice")
        BOOLEAN = "boolean", _("Yes/no")

    class AppliesTo(models.TextChoices):
        ORGANIZATION = "organization", _("Organisations")
        INDIVIDUAL = "individual", _("Individuals")
        ALL = "all", _("All customers")

    model = models.CharField(_("model"), max_length=40, default="customer")
    applies_to = models.CharField(_("applies to"), max_length=20, choices=AppliesTo.choices,
                                  default=AppliesTo.ALL)
    key = models.SlugField(_("key"), max_length=60, help_text=_("Name in the API, e.g. annual_output."))
    label = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    group = models.CharField(_("section"), max_length=100, blank=True)
    group_en = models.CharField(_("section (English)"), max_length=100, blank=True)
    field_type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    # For choice fields: a list of option strings as users see them.
    choices = models.JSONField(_("options"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    min_value = models.DecimalField(_("minimum"), max_digits=20, decimal_places=4, null=True, blank=True)
    max_value = models.DecimalField(_("maximum"), max_digits=20, decimal_places=4, null=True, blank=True)
    max_length = models.PositiveIntegerField(_("maximum length"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    filterable = models.BooleanField(_("filterable"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["model", "key"], name="custom_field_key_unique")]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label


class CodeSequence(models.Model):
    """Last number handed out per code prefix and period (KH + 202611 → KH202611000123)."""

    prefix = models.CharField(max_length=20)
    period = models.CharField(max_length=10)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "period"], name="code_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.period}: {self.last}"


class SuspendedIndex(models.Model):
    """An index dropped for a bulk load and not built again yet (core.bulk_indexes.plain_indexes_suspended).

    Written before the index is dropped and removed once it is built again, so a load killed in between
    leaves the definition here, and the next bulk load or `qianke init` builds the index.
    """

    name = models.CharField(max_length=200, primary_key=True)
    definition = models.TextField()

    def __str__(self) -> str:
        return self.name
