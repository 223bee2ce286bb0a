"""The demo users' password, hashed once in a thread while the load runs (demo_staff(hash_later=True))."""

from __future__ import annotations

import pytest

from qianke.accounts.models import User
from qianke.core.demo import demo_generate, demo_staff

pytestmark = pytest.mark.django_db


def test_demo_users_log_in_with_the_shared_password_after_a_load(home):
    counts = demo_generate(customers=20, seed=2)
    users = User.objects.filter(username__startswith="demo.")
    assert users.count() == counts["users"] > 20
    assert len({u.password for u in users}) == 1  # one hash for all
    assert all(u.check_password(counts["password"]) for u in users)


def test_users_waiting_for_the_hash_cannot_log_in_until_it_is_set(home):
    staff = demo_staff(seed=2, hash_later=True)
    waiting = User.objects.get(username="demo.gm")
    assert not waiting.has_usable_password()
    staff.set_passwords()
    staff.set_passwords()  # once only
    assert User.objects.get(username="demo.gm").check_password(staff.password)


def test_a_load_stopped_before_the_hash_was_set_is_repaired_by_the_next(home):
    stopped = demo_staff(seed=2, hash_later=True)
    stopped.hashing.join()  # the process ended here, the hash never written
    assert not User.objects.get(username="demo.info").has_usable_password()
    counts = demo_generate(customers=5, seed=2)
    assert counts["users"] == 0
    assert User.objects.get(username="demo.info").check_password(counts["password"])


def test_staff_made_without_hash_later_have_their_password_at_once(home):
    staff = demo_staff(seed=2)
    assert staff.hashing is None
    assert User.objects.get(username="demo.director").check_password(staff.password)
