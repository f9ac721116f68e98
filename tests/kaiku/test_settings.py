from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import REPO_CONFIGS, Settings
from kaiku.wiring import experience_thresholds

pytestmark = pytest.mark.unit


def test_env_prefix_and_remote_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAIKU_ELASTICSEARCH_URL", "https://es.example:9200")
    monkeypatch.setenv("KAIKU_ENGINE_PORT", "9999")
    settings = Settings()
    assert settings.engine_url == "https://es.example:9200"
    monkeypatch.delenv("KAIKU_ELASTICSEARCH_URL")
    assert Settings().engine_url == "http://127.0.0.1:9999"


def test_bad_value_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAIKU_API_PORT", "eighty")
    with pytest.raises(ValidationError, match="api_port"):
        Settings()


def test_get_settings_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import ConfigError
    from core.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setenv("KAIKU_API_PORT", "eighty")
    try:
        with pytest.raises(ConfigError, match="KAIKU_API_PORT"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_scoring_precision_is_one_of_the_known_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().precision == "auto"
    monkeypatch.setenv("KAIKU_PRECISION", "bfloat16")
    assert Settings().precision == "bfloat16"
    monkeypatch.setenv("KAIKU_PRECISION", "int8")  # dropped with the deprecated torch.ao.quantization
    with pytest.raises(ValidationError, match="precision"):
        Settings()
    monkeypatch.setenv("KAIKU_PRECISION", "half")
    with pytest.raises(ValidationError, match="precision"):
        Settings()


def test_text_thresholds_come_from_the_default_head_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from sentiment.models.e5_head import load_head_metadata

    calibrated = load_head_metadata()["experience"]
    thresholds = experience_thresholds(Settings())
    assert (thresholds.text_anger, thresholds.text_delight) == (calibrated["text_anger"], calibrated["text_delight"])
    monkeypatch.setenv("KAIKU_EXPERIENCE_TEXT_DELIGHT", "0.97")
    thresholds = experience_thresholds(Settings())
    assert (thresholds.text_anger, thresholds.text_delight) == (calibrated["text_anger"], 0.97)
    assert experience_thresholds(Settings(), "some/hub-model").text_anger == 0.80


def test_experience_thresholds_are_settings_checked_together(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import ConfigError
    from core.experience import ExperienceThresholds
    from core.settings import get_settings
    from sentiment.models.e5_head import model_text_thresholds

    anger, delight = model_text_thresholds("default")  # calibrated with the default head, stored in its json
    assert experience_thresholds(Settings()) == ExperienceThresholds(text_anger=anger, text_delight=delight)
    monkeypatch.setenv("KAIKU_EXPERIENCE_OUTLIER_Z", "3")
    monkeypatch.setenv("KAIKU_EXPERIENCE_RATING_ANGER", "0.4")
    monkeypatch.setenv("KAIKU_SENTIMENT_MODEL", "/srv/models/some-transformers-model")  # no calibration of ours
    assert experience_thresholds(Settings()) == ExperienceThresholds(outlier_z=3.0, rating_anger=0.4)
    monkeypatch.setenv("KAIKU_EXPERIENCE_USUAL_Z", "3.5")  # a usual band wider than the outlier limit
    monkeypatch.setenv("KAIKU_EXPERIENCE_TEXT_DELIGHT", "0.3")  # 1/3 or less: most texts would be delight
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError) as error:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert "KAIKU_EXPERIENCE_TEXT_DELIGHT must be above 1/3" in str(error.value)
    assert "KAIKU_EXPERIENCE_USUAL_Z < KAIKU_EXPERIENCE_OUTLIER_Z, got 3.5 and 3.0" in str(error.value)


def test_editable_config_is_seeded_under_the_data_dir_and_user_edits_are_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KAIKU_CONFIG_DIR", raising=False)
    monkeypatch.setenv("KAIKU_DATA_DIR", str(tmp_path / "data"))
    config_dir = Settings().config_dir
    assert config_dir == tmp_path / "data" / "config"
    for name in ("brands.yaml", "sources.yaml", "alerts.yaml"):
        assert (config_dir / name).read_bytes() == (REPO_CONFIGS / name).read_bytes()
    (config_dir / "brands.yaml").write_text("brands:\n  - id: mine\n    name: Mine\n", encoding="utf-8")
    (config_dir / "alerts.yaml").unlink()  # optional, and removed on purpose
    assert Settings().config_dir == config_dir
    assert (config_dir / "brands.yaml").read_text(encoding="utf-8").startswith("brands:\n  - id: mine")
    assert not (config_dir / "alerts.yaml").exists()


def test_without_a_data_dir_the_config_is_in_the_users_config_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KAIKU_CONFIG_DIR", raising=False)
    monkeypatch.delenv("KAIKU_DATA_DIR", raising=False)
    monkeypatch.setattr("platformdirs.user_config_dir", lambda name: str(tmp_path / "xdg" / name))
    settings = Settings()
    assert settings.config_dir == tmp_path / "xdg" / "kaiku"
    assert (settings.config_dir / "brands.yaml").is_file()
    assert settings.config_dir != REPO_CONFIGS


def test_kaiku_config_dir_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAIKU_CONFIG_DIR", str(tmp_path / "etc-kaiku"))
    assert Settings().config_dir == tmp_path / "etc-kaiku"
    assert not (tmp_path / "etc-kaiku").exists()  # the operator's folder: never seeded
    assert Settings(config_dir=REPO_CONFIGS).config_dir == REPO_CONFIGS
