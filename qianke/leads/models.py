"""Where customers come from (客户来源, 搜集方法) and who introduced whom (连锁介绍).

Three lists, modelled after the 潜客信息卡 (seed 000):

* `Source` is a tree. Depth 0 is the structural source (结构来源: 展厅客源, 续购客源, 介绍客源, 外拓客源),
  depth 1 the first source (第一来源: 来电, 来店, 老客户介绍, …); administrators may add deeper nodes
  (e.g. one exhibition under 市场活动). `path` is the materialised path of ids ("/1/5/"), like
  accounts.Team, so "this source and everything below it" is one indexed prefix match.
* `InformationSource` (信息来源: 报纸, 电视, 网络, 114, …) is a separate flat list, not a third tree
  level: on the card it is an independent question (how the customer heard of us), answered for any
  first source, so nesting it under one first source would be wrong.
* `CollectionMethod` (搜集方法, seeds 000/001): how the salesperson found the customer.

`CustomerOrigin` holds one customer's answers. When the introducer is a contact, its customer is stored
as `introducer_customer` as well, so referral trees follow one column.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Source(models.Model):
    class Level(models.IntegerChoices):
        STRUCTURAL = 0, _("Structural source")
        FIRST = 1, _("First source")
        DETAIL = 2, _("Detail")

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent source"))
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(_("level"), default=0, editable=False)
    active = models.BooleanField(_("active"), default=True)
    order = models.IntegerField(_("order"), default=0)

    class Meta:
        ordering = ["depth", "order", "id"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="leads_source_unique_name_in_parent"),
            models.UniqueConstraint(fields=["name"], condition=Q(parent__isnull=True),
                                    name="leads_source_unique_root_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_label(self) -> str:
        return str(self.Level(min(self.depth, 2)).label)

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]


class InformationSource(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.IntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("information source")
        verbose_name_plural = _("information sources")

    def __str__(self) -> str:
        return self.name


class CollectionMethod(models.Model):
    # A stable key code may branch on (e.g. "referral"); the name is the administrator's to change.
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.IntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("collection method")
        verbose_name_plural = _("collection methods")

    def __str__(self) -> str:
        return self.name


class CustomerOrigin(models.Model):
    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="origin",
                                    verbose_name=_("customer"))
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="origins", verbose_name=_("source"))
    information_source = models.ForeignKey(InformationSource, null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="origins", verbose_name=_("information source"))
    collection_method = models.ForeignKey(CollectionMethod, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="origins", verbose_name=_("collection method"))
    introducer_customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                            related_name="introduced", verbose_name=_("introduced by (customer)"))
    introducer_contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="introduced", verbose_name=_("introduced by (contact)"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("recorded by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer origin")
        verbose_name_plural = _("customer origins")
        constraints = [
            models.CheckConstraint(condition=Q(introducer_contact__isnull=True)
                                   | Q(introducer_customer__isnull=False),
                                   name="leads_origin_contact_has_customer"),
            models.CheckConstraint(condition=~Q(introducer_customer=models.F("customer")),
                                   name="leads_origin_not_self_introduced"),
        ]

    def __str__(self) -> str:
        return f"origin of customer {self.customer_id}"
