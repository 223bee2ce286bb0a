import pytest

from qianke.leads.models import CollectionMethod, InformationSource, Source

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture(autouse=True)
def _fast(fast_password_hashing):
    pass


@pytest.fixture
def src(db):
    """Seeded source by name: src("来店"), src("展厅客源")."""
    def get(name: str) -> Source:
        return Source.objects.get(name=name)

    return get


@pytest.fixture
def info(db):
    return lambda name: InformationSource.objects.get(name=name)


@pytest.fixture
def method(db):
    return lambda code: CollectionMethod.objects.get(code=code)
