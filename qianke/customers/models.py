from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qianke.core.models import ArchivableModel, TimeStampedModel
from qianke.core.visibility import CustomerRelatedQuerySet, RestrictedQuerySet
from qianke.customers.choices import (
    Education,
    EnterpriseNature,
    Gender,
    Industry,
    Kind,
    PotentialKind,
    ProductionMode,
    RelationClass,
    Scale,
    Status,
)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Customer(TimeStampedModel, ArchivableModel):
    """An organisation or individual for its whole life with us: potential, real, dormant, lost."""

    code = models.CharField(_("customer code"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ORGANIZATION)
    name = models.CharField(_("name"), max_length=200)
    # Canonical name for duplicate checks (see core.normalize.normalize_company_name).
    name_norm = models.CharField(max_length=200, db_index=True, editable=False, default="")
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    # 统一社会信用代码 of an organisation as typed; the canonical 18 characters beside it (checked with the
    # check character, core.normalize.normalize_credit_code) for duplicate checks.
    credit_code = models.CharField(_("unified social credit code"), max_length=30, blank=True)
    credit_code_norm = models.CharField(max_length=18, blank=True, editable=False, default="")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.POTENTIAL)
    potential_kind = models.CharField(
        _("potential-customer kind"), max_length=20, choices=PotentialKind.choices, blank=True,
        default=PotentialKind.GENERAL,
    )
    relation_class = models.CharField(
        _("relation class"), max_length=20, choices=RelationClass.choices, default=RelationClass.BUSINESS
    )
    enterprise_nature = models.CharField(
        _("enterprise nature"), max_length=20, choices=EnterpriseNature.choices, blank=True
    )
    industry = models.CharField(_("industry"), max_length=40, choices=Industry.choices, blank=True)
    production_mode = models.CharField(
        _("production mode"), max_length=20, choices=ProductionMode.choices, blank=True
    )
    scale = models.CharField(_("scale"), max_length=20, choices=Scale.choices, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district / county"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    postcode = models.CharField(_("postcode"), max_length=6, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_norm = models.CharField(max_length=30, blank=True, editable=False, default="")
    mobile = models.CharField(_("mobile"), max_length=30, blank=True)
    mobile_norm = models.CharField(max_length=20, blank=True, editable=False, default="")
    fax = models.CharField(_("fax"), max_length=40, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    # No index of their own: customer_owner_idx and customer_team_idx begin with them.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="owned_customers", verbose_name=_("owner"), db_index=False,
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="customers",
        verbose_name=_("team"), db_index=False,
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    notes = models.TextField(_("notes"), blank=True)
    # Individuals (客户(个人)资料卡, seed 004)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    annual_income = models.DecimalField(
        _("annual income (¥)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    education = models.CharField(_("education"), max_length=20, choices=Education.choices, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )
    # Lifecycle (customers.lifecycle): written only by the transition function and the dormancy job.
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True, editable=False)
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, blank=True, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["owner", "archived_at", "id"], name="customer_owner_idx"),
            models.Index(fields=["team", "archived_at", "id"], name="customer_team_idx"),
            models.Index(fields=["status", "id"], name="customer_status_idx"),
            models.Index(fields=["status", "last_purchase_at"], name="customer_dormancy_idx"),
            models.Index(fields=["mobile_norm"], name="customer_mobile_idx"),
            models.Index(fields=["phone_norm"], name="customer_phone_idx"),
            # Most customers have no credit code: only those that do are indexed.
            models.Index(fields=["credit_code_norm"], name="customer_credit_code_idx",
                         condition=~models.Q(credit_code_norm="")),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TimeStampedModel, ArchivableModel):
    """A person at a customer; the key decision-maker profile fields come from seed 002."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts",
                                 verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_norm = models.CharField(max_length=30, blank=True, editable=False, default="")
    mobile = models.CharField(_("mobile"), max_length=30, blank=True)
    mobile_norm = models.CharField(max_length=20, blank=True, editable=False, default="")
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    wechat = models.CharField(_("WeChat"), max_length=60, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    birthplace = models.CharField(_("birthplace (籍贯)"), max_length=60, blank=True)
    interests = models.CharField(_("interests and hobbies"), max_length=300, blank=True)
    personality = models.CharField(_("personality"), max_length=300, blank=True)
    working_style = models.CharField(_("working style"), max_length=300, blank=True)
    years_in_company = models.PositiveSmallIntegerField(_("years in the company"), null=True, blank=True)
    authority = models.CharField(_("scope of authority"), max_length=300, blank=True)
    family_notes = models.TextField(_("family"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )

    objects = CustomerRelatedQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


class StatusChange(models.Model):
    """One move of a customer's lifecycle (customers.lifecycle), the first from "" at registration."""

    class Trigger(models.TextChoices):
        CREATE = "create", _("Registered")
        MANUAL = "manual", _("Manual")
        PURCHASE = "purchase", _("Purchase")
        JOB = "job", _("Automatic (dormancy)")
        MIGRATION = "migration", _("Recorded at upgrade")

    # No index of its own: statuschange_customer_idx begins with it.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="status_changes",
                                 verbose_name=_("customer"), db_index=False)
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)
    at = models.DateTimeField(_("date"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("by"),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)

    # Read through customers.lifecycle, which applies the customer's visibility.

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [
            # The customer's history, and "first move to X after T" in the funnel.
            models.Index(fields=["customer", "to_status", "at"], name="statuschange_customer_idx"),
            # The funnel's cohort: who entered a status in a period.
            models.Index(fields=["to_status", "at"], name="statuschange_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


class CustomerSearch(models.Model):
    """Search tokens of one customer (see core.normalize.search_document).

    The full-text index over these columns is database-specific and kept in step by the database:
    an FTS5 table with triggers on SQLite, a weighted tsvector column with a GIN index on PostgreSQL
    (migration 0002). Archived customers have no row, so they never show up in search.
    """

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE,
                                    related_name="search_entry")
    names = models.TextField(default="")
    pinyin = models.TextField(default="")
    digits = models.TextField(default="")
    other = models.TextField(default="")

    def __str__(self) -> str:
        return f"search entry of customer {self.customer_id}"
