import pytest
from django.utils import translation

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture(autouse=True)
def _fast_and_english(fast_password_hashing):
    """Assertions compare English msgids; the site's default language is Chinese."""
    with translation.override("en"):
        yield
