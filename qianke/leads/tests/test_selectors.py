"""Referral trees: structure, counts, depth bound, visibility."""

from qianke.customers.models import Customer
from qianke.leads.selectors import referral_summary, referral_tree, source_choices, source_tree
from qianke.leads.services import origin_set


def _introduce(actor, src, customer, *, by=None, contact=None):
    data = {"source": src("老客户介绍").pk}
    if by is not None:
        data["introducer_customer"] = by.pk
    if contact is not None:
        data["introducer_contact"] = contact.pk
    origin_set(actor=actor, customer_id=customer.pk, data=data)


def test_referral_tree_follows_customers_and_their_contacts(org, make_customer, make_contact, src):
    root = make_customer(org.rep, "根客户")
    contact = make_contact(org.rep, root, "王经理")
    b, c, d, e = (make_customer(org.rep, n) for n in ("乙", "丙", "丁", "戊"))
    _introduce(org.rep, src, b, by=root)
    _introduce(org.rep, src, c, contact=contact)  # introduced by the root's contact
    _introduce(org.rep, src, d, by=b)
    _introduce(org.rep, src, e, by=d)
    Customer.objects.filter(pk__in=[b.pk, e.pk]).update(status="new")
    Customer.objects.filter(pk=c.pk).update(status="lost")

    tree = referral_tree(user=org.rep, customer_id=root.pk)
    assert [n.name for n in tree.children] == ["乙", "丙"]
    assert tree.children[1].via_contact == "王经理"
    assert [n.name for n in tree.children[0].children] == ["丁"]
    assert tree.children[0].children[0].children[0].name == "戊"
    assert (tree.introduced, tree.converted, tree.direct_introduced, tree.direct_converted) == (4, 2, 2, 1)
    assert tree.hidden == 0 and not tree.truncated
    assert [n.depth for n in tree.flat()] == [1, 2, 3, 1]

    shallow = referral_tree(user=org.rep, customer_id=root.pk, depth=2)
    assert shallow.introduced == 3 and shallow.truncated
    assert referral_summary(user=org.rep, customer_id=root.pk) == {"introduced": 2, "converted": 1}
    assert referral_summary(user=org.rep, customer_id=b.pk) == {"introduced": 1, "converted": 0}


def test_hidden_customers_are_counted_not_shown(org, make_customer, src):
    root = make_customer(org.rep, "根客户")
    hidden = make_customer(org.rep_north, "北方客户")
    below = make_customer(org.rep, "下线客户")
    _introduce(org.gm, src, hidden, by=root)
    _introduce(org.gm, src, below, by=hidden)
    Customer.objects.filter(pk=hidden.pk).update(status="repeat")

    tree = referral_tree(user=org.rep, customer_id=root.pk)
    names = [n.name for n in tree.flat()]
    assert names == ["下线客户"]  # hangs from the nearest visible ancestor
    assert tree.hidden == 1 and tree.introduced == 2 and tree.converted == 1
    gm_tree = referral_tree(user=org.gm, customer_id=root.pk)
    assert [n.name for n in gm_tree.flat()] == ["北方客户", "下线客户"] and gm_tree.hidden == 0


def test_referral_tree_of_a_customer_one_cannot_see_is_404(org, make_customer):
    import pytest

    from qianke.core.errors import NotFound

    theirs = make_customer(org.rep_north)
    with pytest.raises(NotFound):
        referral_tree(user=org.rep, customer_id=theirs.pk)


def test_referral_tree_queries_are_bounded(org, make_customer, src, django_assert_max_num_queries):
    root = make_customer(org.rep)
    parent = root
    for _i in range(6):
        child = make_customer(org.rep)
        _introduce(org.rep, src, child, by=parent)
        for _j in range(3):
            _introduce(org.rep, src, make_customer(org.rep), by=child)
        parent = child
    with django_assert_max_num_queries(14):
        tree = referral_tree(user=org.rep, customer_id=root.pk, depth=10)
    assert tree.introduced == 24


def test_source_choices_are_grouped_and_skip_inactive(src):
    from qianke.leads.models import Source

    Source.objects.filter(name="中介").update(active=False)
    groups = dict(source_choices())
    assert list(groups) == ["展厅客源", "续购客源", "介绍客源", "外拓客源"]
    assert [label for _id, label in groups["展厅客源"]] == ["展厅客源", "— 来电", "— 来店"]
    assert "— 中介" not in [label for _id, label in groups["介绍客源"]]
    assert "— 中介" in [label for _id, label in dict(source_choices(include=src("中介").pk))["介绍客源"]]
    assert len(source_tree()) == 4
