"""The deploy files cannot run here (no Docker engine, no cluster): check everything that can be checked without one.

Compose files go through the same steps as `docker compose config`: YAML with merge keys, variable interpolation,
merging of the override file, then the Compose Specification parser (compose-spec, the Rust `compose_spec` crate).
Kubernetes manifests are validated against the API schemas of the Kubernetes version we support (kubernetes-validate).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.33.0"
SAMPLE_ENV = {"ELASTIC_PASSWORD": "changeme", "KIBANA_PASSWORD": "changeme-too", "KAIKU_ADMIN_KEY": "admin-key"}
# Every package the wheel installs (pyproject's `include`): the image must copy each of them.
PACKAGES = tuple(
    name.rstrip("*")
    for name in tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"][
        "include"
    ]
)

_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<name>\w+)(?:(?P<op>:-|-|:\?|\?)(?P<arg>[^}]*))?\}|(?P<bare>\w+))")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's interpolation of string values: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$ for a literal $."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        current = env.get(name)
        op = match["op"]
        if op in (":?", "?") and (current is None or (op == ":?" and not current)):
            raise ValueError(f"required variable {name} is missing: {match['arg']}")
        if op == ":-" and not current or op == "-" and current is None:
            return match["arg"]
        return current or ""

    return _VARIABLE.sub(substitute, value)


def merge_override(base: Any, override: Any) -> Any:
    """Compose's merge of a later -f file: mappings merge key by key, sequences are appended, scalars replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge_override(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + [item for item in override if item not in base]
    return override


def compose_config(*files: str, env: dict[str, str] = SAMPLE_ENV) -> dict:
    """What `docker compose -f a -f b config` would print, checked by the Compose Specification parser."""
    from compose_spec import PyCompose

    project: dict = {}
    for name in files:
        project = merge_override(project, interpolate(yaml.safe_load((DEPLOY / name).read_text()), env))
    project = {key: value for key, value in project.items() if not key.startswith("x-")}
    PyCompose.from_json(json.dumps(project)).validate()  # raises ValueError naming the field
    return project


def assert_references_resolve(project: dict) -> None:
    services, volumes = project["services"], project.get("volumes", {})
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in volumes or source.startswith((".", "/")), (name, volume)
        if "build" in service:
            build = service["build"]
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file(), name


def test_single_node_compose_is_valid_and_complete() -> None:
    project = compose_config("docker-compose.yml")
    assert_references_resolve(project)
    services = project["services"]
    assert {"elasticsearch", "kibana", "mailpit", "index-init", "api", "scheduler", "crawl-worker"} <= set(services)
    elasticsearch = services["elasticsearch"]
    assert elasticsearch["healthcheck"]["test"]
    assert any(volume.startswith("esdata:") for volume in elasticsearch["volumes"])
    # The Python client is 9.x: the server and Kibana must be the same major version.
    assert elasticsearch["image"].rsplit(":", 1)[1].startswith("9.")
    assert services["kibana"]["image"].rsplit(":", 1)[1] == elasticsearch["image"].rsplit(":", 1)[1]
    # The Kaiku services send mail to the catcher unless told otherwise, and all reach the engine with credentials.
    for role in ("api", "scheduler", "crawl-worker"):
        environment = services[role]["environment"]
        assert environment["KAIKU_ELASTICSEARCH_URL"] == "http://elastic:changeme@elasticsearch:9200"
        assert environment["KAIKU_SMTP_HOST"] == "mailpit"


def test_compose_refuses_to_start_without_secrets() -> None:
    with pytest.raises(ValueError, match="ELASTIC_PASSWORD"):
        compose_config("docker-compose.yml", env={"KIBANA_PASSWORD": "x"})


def test_cluster_override_makes_three_master_eligible_nodes() -> None:
    project = compose_config("docker-compose.yml", "docker-compose.cluster.yml")
    assert_references_resolve(project)
    services = project["services"]
    nodes = {name: services[name] for name in ("elasticsearch", "es02", "es03")}
    names = {service["environment"]["node.name"] for service in nodes.values()}
    assert names == {"es01", "es02", "es03"}
    for service in nodes.values():
        environment = service["environment"]
        assert environment["discovery.type"] == "multi-node"
        assert set(environment["cluster.initial_master_nodes"].split(",")) == names
        assert environment["xpack.security.transport.ssl.enabled"] == "true"
        assert environment["xpack.security.transport.ssl.certificate"].startswith(f"certs/{environment['node.name']}/")
        assert "certs" in service["depends_on"]
    data_volumes = [next(v for v in service["volumes"] if v.endswith("/data")) for service in nodes.values()]
    assert len(set(data_volumes)) == 3, "each node needs its own data volume"


def test_interpolation_follows_compose_rules() -> None:
    env = {"SET": "value", "EMPTY": ""}
    assert interpolate("${SET:-x} ${EMPTY:-x} ${EMPTY-x} ${UNSET-x} $$HOME $SET", env) == "value x  x $HOME value"
    with pytest.raises(ValueError, match="UNSET"):
        interpolate("${UNSET:?needed}", env)


def test_dockerfile_copies_every_package_and_pins_torch() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for package in PACKAGES:
        assert f"COPY {package} {package}" in dockerfile
    assert "torch==2.13.0 --index-url ${TORCH_INDEX}" in dockerfile
    # One build argument switches to a CUDA base; the default stays CPU.
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu$", dockerfile, re.M)
    assert "FROM ${BASE_IMAGE}" in dockerfile


def kubernetes_documents() -> list[tuple[str, dict]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((K8S / resource).read_text()):
            documents.append((resource, document))
    return documents


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize(("filename", "document"), kubernetes_documents(), ids=lambda value: str(value)[:40])
def test_kubernetes_manifest_matches_the_api_schema(filename: str, document: dict) -> None:
    import kubernetes_validate

    # strict: an unknown or misspelt field is an error, as `kubectl apply --validate=strict` would make it.
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kubernetes_workloads_fit_together() -> None:
    documents = kubernetes_documents()
    by_kind: dict[str, dict[str, dict]] = {}
    for _, document in documents:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    scheduler = by_kind["Deployment"]["kaiku-scheduler"]
    assert scheduler["spec"]["replicas"] == 1 and scheduler["spec"]["strategy"]["type"] == "Recreate"
    for deployment in by_kind["Deployment"].values():
        spec = deployment["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
        for container in spec["template"]["spec"]["containers"]:
            assert container["command"][0] == "kaiku"
            assert container["resources"]["requests"], deployment["metadata"]["name"]
        for volume in spec["template"]["spec"].get("volumes", []):
            claim = volume.get("persistentVolumeClaim")
            if claim:
                assert claim["claimName"] in by_kind["PersistentVolumeClaim"]
    api_labels = by_kind["Deployment"]["kaiku-api"]["spec"]["selector"]["matchLabels"]
    assert by_kind["Service"]["kaiku-api"]["spec"]["selector"].items() <= api_labels.items()
    # The API and the scheduler share one state volume (SQLite: teams, cases, outbox, job store).
    for name in ("kaiku-api", "kaiku-scheduler"):
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in by_kind["Deployment"][name]["spec"]["template"]["spec"]["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claims == ["kaiku-state"], name


def cli_accepts(args: list[str]) -> bool:
    """Whether the CLI knows this command and its options (parsed up to `--help`, as a shell would run it)."""
    from typer.testing import CliRunner

    from cli import app

    return CliRunner().invoke(app, [*args, "--help"]).exit_code == 0


def test_cli_accepts_rejects_what_the_cli_does_not_know() -> None:
    assert cli_accepts(["index", "init"])
    assert not cli_accepts(["index", "init", "--no-such-option"])
    assert not cli_accepts(["no-such-command"])


def test_every_cli_command_in_the_deploy_files_exists() -> None:
    """A deploy file that runs a command the CLI no longer has would only fail in production."""
    services = compose_config("docker-compose.yml")["services"].values()
    commands = [service["command"] for service in services if service.get("command", [""])[0] == "kaiku"]
    for _, document in kubernetes_documents():
        if document["kind"] in ("Deployment", "StatefulSet", "Job"):
            commands += [container["command"] for container in document["spec"]["template"]["spec"]["containers"]]
    assert len(commands) >= 7
    for command in commands:
        assert cli_accepts(command[1:]), command


def test_the_crawl_worker_yields_the_cpu_to_the_api() -> None:
    """Containers are cgroups of their own: the crawl's niceness does not reach the API's, the CPU weight does."""
    services = compose_config("docker-compose.yml")["services"]
    assert services["crawl-worker"]["cpu_shares"] < services["api"].get("cpu_shares", 1024)
