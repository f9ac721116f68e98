"""Changing configs/ through ConfigStore: read-modify-write under a lock shared by processes, durable, modes kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.config import AlertRule, ConfigError, KaikuConfig, load_config, source_of
from core.settings import REPO_CONFIGS
from kaiku.config_store import ConfigStore

ROOT = Path(__file__).resolve().parents[2]

# One process adding `count` alert rules, one change each, ids prefixed by its name.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from core.config import AlertRule
    from kaiku.config_store import ConfigStore

    folder, prefix, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = ConfigStore(folder)
    for i in range(count):
        rule = AlertRule(id=f"{prefix}-{i}", brand="revontuli", recipients=["a@b.example"])
        store.update(lambda current: current.model_copy(update={"alerts": [*current.alerts, rule]}))
    """
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(REPO_CONFIGS, tmp_path / "configs")
    return tmp_path / "configs"


def add_rule(rule_id: str):  # noqa: ANN201 - a change for ConfigStore.update
    rule = AlertRule(id=rule_id, brand="revontuli", recipients=["a@b.example"])
    return lambda current: current.model_copy(update={"alerts": [*current.alerts, rule]})


@pytest.mark.integration
def test_two_processes_changing_at_once_lose_nothing(folder: Path) -> None:
    """Each process builds on what the other wrote: the change is decided inside the lock, from the files."""
    count = 8
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(folder), name, str(count)], cwd=ROOT)
        for name in ("left", "right")
    ]
    # And this process writes too, through a store that read the files before the others started.
    store = ConfigStore(folder)
    store.load()
    for i in range(count):
        store.update(add_rule(f"here-{i}"))
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    ids = {rule.id for rule in load_config(folder).alerts}
    expected = {f"{name}-{i}" for name in ("left", "right", "here") for i in range(count)}
    assert expected <= ids and len(ids) == len(expected) + 2  # and the two rules of the sample configuration
    # A store that read the folder earlier sees what the others wrote.
    assert {rule.id for rule in store.current().alerts} == ids


@pytest.mark.unit
def test_a_change_keeps_the_files_mode_and_a_new_file_gets_the_umask(folder: Path) -> None:
    alerts = folder / "alerts.yaml"
    alerts.chmod(0o640)
    (folder / "sources.yaml").unlink()
    store = ConfigStore(folder)
    store.update(add_rule("one"))
    assert alerts.stat().st_mode & 0o777 == 0o640
    source = source_of(id="feed", spider="rss", start_urls=["https://example.com/feed"])
    store.update(lambda current: current.model_copy(update={"sources": [*current.sources, source]}))
    umask = os.umask(0)
    os.umask(umask)
    assert (folder / "sources.yaml").stat().st_mode & 0o777 == 0o666 & ~umask
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]  # no temporary file left


@pytest.mark.unit
def test_a_refused_change_writes_nothing_and_errors_name_no_server_path(folder: Path) -> None:
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    store = ConfigStore(folder)

    def dangling(current: KaikuConfig) -> KaikuConfig:
        rule = AlertRule(id="x", brand="ghost", recipients=["a@b.example"])
        return current.model_copy(update={"alerts": [*current.alerts, rule]})

    with pytest.raises(ConfigError) as refused:
        store.update(dangling)
    message = str(refused.value)
    assert message.startswith("alerts.yaml: alerts.2.brand: unknown brand 'ghost'")
    assert str(folder.parent) not in message and "/tmp" not in message
    assert "revontuli" not in message  # no list of the known brand ids (they may be other teams')

    def refuse(current: KaikuConfig) -> KaikuConfig:
        raise LookupError("taken")

    with pytest.raises(LookupError):
        store.update(refuse)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.unit
def test_a_hand_edit_is_seen_and_an_invalid_one_keeps_the_last_valid_configuration(folder: Path) -> None:
    store = ConfigStore(folder)
    assert len(store.load().alerts) == 2
    alerts = folder / "alerts.yaml"
    alerts.write_text("alerts: []\n", encoding="utf-8")
    assert store.current().alerts == []
    alerts.write_text("alerts: [{id: x}]\n", encoding="utf-8")
    assert store.current().alerts == []
    with pytest.raises(ConfigError, match="alerts.yaml: "):  # the next change reports the broken file
        store.update(add_rule("one"))
