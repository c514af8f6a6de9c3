import os

import pytest

from netns import NetNS


def pytest_configure(config):
    # Integration tests need root for namespaces; failing loudly beats skipping silently.
    if os.geteuid() != 0:
        raise pytest.UsageError("tests/integration needs root (network namespaces, nft)")


@pytest.fixture
def netns():
    ns = NetNS()
    try:
        yield ns
    finally:
        ns.delete()
