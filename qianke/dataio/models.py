"""Imports: the job (who, what file, how, how far), its ledger of created rows and its rejected rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One import of one file. `checkpoint` is the last data row whose batch has committed: a re-run
    (after the process was killed) continues after it, so no row is written twice."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        UNDONE = "undone", _("undone")

    class Mode(models.TextChoices):
        ATOMIC = "atomic", _("All or nothing")
        PARTIAL = "partial", _("Import the valid rows, give me the rest")

    class Duplicates(models.TextChoices):
        FLAG = "flag", _("Import them and list them for review")
        SKIP = "skip", _("Skip rows that are the same customer")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("imported by"))
    file_name = models.CharField(_("file name"), max_length=255)
    # Where the uploaded file is kept until the import has run (under QIANKE_HOME/imports).
    file_path = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    headers = models.JSONField(_("columns of the file"), default=list)
    mapping = models.JSONField(_("column mapping"), default=dict)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.PARTIAL)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("owner of the new customers"))
    pool_name = models.CharField(_("public pool"), max_length=100, blank=True)
    # What to do with a row that looks like an existing customer or another row of the file.
    duplicates = models.CharField(_("duplicates"), max_length=10, choices=Duplicates.choices,
                                  default=Duplicates.FLAG)
    # The importing user's language: the worker writes the rejection messages in it.
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows in the file"), null=True, blank=True)
    checkpoint = models.PositiveIntegerField(_("last committed row"), default=0)
    read_rows = models.PositiveIntegerField(_("rows read"), default=0)
    created_customers = models.PositiveIntegerField(_("customers created"), default=0)
    created_contacts = models.PositiveIntegerField(_("contacts created"), default=0)
    created_activities = models.PositiveIntegerField(_("follow-ups created"), default=0)
    rejected_rows = models.PositiveIntegerField(_("rows rejected"), default=0)
    # Rows imported and put up for review as possible duplicates (duplicate groups linked to this import).
    flagged_rows = models.PositiveIntegerField(_("rows flagged as possible duplicates"), default=0)
    # Rows not imported because they are the same customer as an existing one or an earlier row
    # (counted among rejected_rows too, each with its reason).
    skipped_rows = models.PositiveIntegerField(_("rows skipped as duplicates"), default=0)
    error = models.TextField(_("error"), blank=True)
    # Something the user should know about an import that finished (e.g. a foreign key the database
    # could not validate after a large import); the rows are imported all the same.
    warning = models.TextField(_("warning"), blank=True)
    # Stopped by an error of the database, the disk or the program (not by its rows): continuing it
    # imports the rows after the checkpoint (an atomic import starts again).
    can_continue = models.BooleanField(_("can be continued"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["status", "id"], name="dataio_importjob_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def progress_percent(self) -> int:
        if self.status in (self.Status.DONE, self.Status.UNDONE):
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(100 * self.read_rows / self.total_rows))


class ImportedRow(models.Model):
    """The ledger: what one data row of the file created. Written in the batch's own transaction, so
    the ledger, the checkpoint and the created records commit together or not at all."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="imported_rows")
    row_number = models.PositiveIntegerField()
    customer_id = models.BigIntegerField(null=True)
    # True when the row created the customer; False when it added to an existing one (客户编号).
    customer_created = models.BooleanField(default=True)
    contact_id = models.BigIntegerField(null=True)
    activity_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "row_number"], name="dataio_importedrow_unique")]
        indexes = [models.Index(fields=["job", "customer_id"], name="dataio_importedrow_customer")]

    def __str__(self) -> str:
        return f"import {self.job_id} row {self.row_number}"


class ImportRejection(models.Model):
    """A row that was not imported, with what it held and the messages per column."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    row_number = models.PositiveIntegerField()
    values = models.JSONField(default=list)
    errors = models.JSONField(default=dict)  # {column header: [messages]}

    class Meta:
        ordering = ["row_number"]
        constraints = [models.UniqueConstraint(fields=["job", "row_number"], name="dataio_importrejection_unique")]

    def __str__(self) -> str:
        return f"import {self.job_id} row {self.row_number} rejected"
