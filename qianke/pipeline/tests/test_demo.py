"""Demo deals: consistent stage history, checklists and reports that have something to show."""

from qianke.pipeline import reports
from qianke.pipeline.demo import demo_generate
from qianke.pipeline.models import Deal, DealStageChange, ForecastSnapshot, Semantic


def test_demo_deals_are_consistent_and_idempotent(org, make_customer):
    for i in range(40):
        make_customer([org.rep, org.rep2, org.rep_north][i % 3], f"演示客户{i}有限公司")
    counts = demo_generate(seed=3, customers=40)
    assert counts["deals"] == 10 and counts["stage_changes"] >= 10
    for deal in Deal.objects.all():
        stays = list(DealStageChange.objects.filter(deal=deal).order_by("entered_at", "id"))
        assert stays[-1].stage_id == deal.stage_id and stays[-1].left_at is None
        assert all(s.left_at == n.entered_at for s, n in zip(stays, stays[1:], strict=False))
        assert deal.stage_entered_at == stays[-1].entered_at
        assert (deal.closed_at is None) == (deal.semantic == Semantic.OPEN)
        assert deal.team_id == deal.owner.team_id
    assert Deal.objects.filter(semantic=Semantic.OPEN).exists() and ForecastSnapshot.objects.exists()
    # A second run opens deals only for customers that still have none.
    assert demo_generate(seed=4, customers=40)["deals"] == 10
    assert Deal.objects.values("customer_id").distinct().count() == Deal.objects.count() == 20
    process = Deal.objects.first().process
    assert reports.funnel(user=org.gm, process=process).cohort >= 1


def test_demo_wins_only_where_the_customer_has_bought(org, make_customer):
    from qianke.customers.lifecycle import customer_record_purchase

    bought = [make_customer(org.rep, f"老客户{i}有限公司") for i in range(30)]
    for customer in bought:
        customer_record_purchase(actor=org.rep, customer_id=customer.pk)
    for i in range(30):
        make_customer(org.rep, f"潜在客户{i}有限公司")
    demo_generate(seed=5, customers=240)
    won = Deal.objects.filter(semantic=Semantic.WON)
    assert won.exists()
    assert set(won.values_list("customer__status", flat=True)) <= {"new", "repeat", "dormant"}
