import pytest
from django.test import Client

from qianke.pipeline.models import ChecklistItem, Process, Stage
from qianke.pipeline.services import checklist_tick, deal_create


@pytest.fixture(autouse=True)
def _fast(fast_password_hashing):
    pass


@pytest.fixture
def process(db):
    """Shipped process by code: process("big_account_sales")."""
    return lambda code: Process.objects.get(code=code)


@pytest.fixture
def stage(db):
    """stage(process, "立项")."""
    return lambda process, name: Stage.objects.get(process=process, name=name)


@pytest.fixture
def make_deal(db, make_customer, process):
    def make(actor, customer=None, code="big_account_sales", **data):
        customer = customer or make_customer(actor)
        data.setdefault("name", f"{customer.name} 项目")
        at = data.pop("at", None)
        return deal_create(actor=actor, data={"customer": customer.pk, "process": process(code).pk, **data}, at=at)

    return make


@pytest.fixture
def meet_key_node(db):
    """Tick every required item of the stage and fill its required fields."""
    def meet(actor, deal, stage):
        for item in ChecklistItem.objects.filter(stage=stage, required=True):
            checklist_tick(actor=actor, deal_id=deal.pk, item_id=item.pk, done=True)
        values = {"amount": "100000", "expected_close_date": "2027-01-31", "products": "ERP", "quote_number": "BJ-1",
                  "next_step": "拜访", "next_step_due": "2027-01-10", "purchase_window": 3, "budget": "120000"}
        missing = {f: values[f] for f in stage.required_fields}
        if missing:
            from qianke.pipeline.services import deal_update

            deal_update(actor=actor, deal_id=deal.pk, data=missing)

    return meet


@pytest.fixture
def api(token_for):
    def make(user):
        client = Client()
        token = token_for(user)

        def call(method, path, body=None):
            kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            if body is not None:
                kwargs.update(data=body, content_type="application/json")
            return getattr(client, method)(f"/api/v1{path}", **kwargs)

        return call

    return make
