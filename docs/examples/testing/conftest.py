"""Tell the dynamorm_async pytest plugin which tables the tests need."""

import pytest
from catalog import products


@pytest.fixture
def dynamorm_mappers():
    """dynamorm_db creates a fresh table for each of these, for every test."""
    return [products]
