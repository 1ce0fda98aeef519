"""The task's /tmp as Fargate creates it (root-owned, mode 0755): the server, running as uid 1000,
starts only because the prepare-volumes init container opened it first. The harness emulates the
bind mount and runs the init container's command as root without capabilities; every other
runtime test therefore runs through it. Here, without it (VolumePreparation=none, the stock
image, which declares no VOLUME), the server cannot start at all."""

import pytest

from tests.runtime.test_container_runtime import container

pytestmark = pytest.mark.runtime


def test_without_the_init_container_the_stock_image_cannot_start(database, s3_endpoint):
    server = container(database, s3_endpoint, VolumePreparation="none")
    assert server.spec.prepare == ()  # no container runs as root
    server.start()
    try:
        with pytest.raises(AssertionError, match="server exited"):
            server.wait_healthy(timeout=60)
        # mlflow's CLI asks for a temporary directory as it is imported.
        assert "No usable temporary directory found" in server.log()
    finally:
        server.stop()
