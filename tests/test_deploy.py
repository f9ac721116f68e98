"""The deploy files cannot run here (no Docker engine); check what can be checked without one."""

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_compose_file_is_consistent() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"elasticsearch", "index-init", "api"} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        for volume in service.get("volumes", []):
            named = volume.split(":")[0]
            assert named in compose.get("volumes", {}) or named.startswith((".", "/")), (name, volume)
        if "build" in service:
            dockerfile = DEPLOY.parent / service["build"]["context"].replace("..", ".") / service["build"]["dockerfile"]
            assert dockerfile.is_file()
    # The Python client is 9.x: the server must be the same major version.
    assert services["elasticsearch"]["image"].rsplit(":", 1)[1].startswith("9.")


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for package in ("kaiku", "crawler", "sentiment", "indexer", "api"):
        assert f"COPY {package} {package}" in dockerfile
    assert "torch==2.13.0" in dockerfile
