"""Configuration: the example is valid; mistakes fail at start naming file, key, expectation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from maildesk.cli import main
from maildesk.config import PACKAGE, ConfigError, load_config, resolve_config_path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "maildesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid_and_resolves_paths() -> None:
    config = load_config(EXAMPLE)
    assert config.company.reference_prefix == "MD"
    assert config.schedule.timezone == "Europe/Madrid"
    assert config.templates_dir == PACKAGE / "templates"  # shipped inside maildesk
    assert config.models_dir == PACKAGE / "models"
    assert (REPO / "templates").resolve() == PACKAGE / "templates"  # the repository's link
    # relative to the folder the file is seen in, even through the repository's link
    assert config.database.url == f"sqlite:///{REPO / 'maildesk.db'}"


def test_own_templates_and_model_are_found_beside_the_config(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    text = text.replace('# templates_dir = "templates"', 'templates_dir = "mine/templates"')
    text = text.replace('# models_dir = "models"', 'models_dir = "mine/models"')
    config = load_config(write(tmp_path, text))
    assert config.templates_dir == tmp_path / "mine" / "templates"
    assert config.models_dir == tmp_path / "mine" / "models"
    assert {k.category for k in config.kinds} == {"technical", "billing", "other"}
    assert config.kind("outage").priority == "P1"
    assert "support@example-telecom.es" not in config.own_addresses  # the example's own addr
    assert config.company.support_address in config.own_addresses


def test_wrong_type_names_file_key_and_expectation(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("port = 993", 'port = "nine"')
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert "imap.port" in message
    assert "integer" in message and "'nine'" in message


def test_missing_section_is_reported(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().split("[smtp]")[0] + "\n[database]\nurl='sqlite:///x.db'\n"
    with pytest.raises(ConfigError, match=r"key smtp: Field required"):
        load_config(write(tmp_path, text))


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("idle = true", "idle = true\nidel = false")
    with pytest.raises(ConfigError, match=r"imap\.idel: Extra inputs are not permitted"):
        load_config(write(tmp_path, text))


def test_invalid_timezone_and_unknown_default_kind(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace('timezone = "Europe/Madrid"', 'timezone = "Europe/Madird"')
    with pytest.raises(ConfigError, match=r"schedule.timezone.*unknown time zone"):
        load_config(write(tmp_path, text))
    text = EXAMPLE.read_text().replace('default_kind = "general"', 'default_kind = "nope"')
    with pytest.raises(ConfigError, match=r"default_kind 'nope' is not one of the kinds"):
        load_config(write(tmp_path, text))


def test_copies_go_where_they_can_be_found(tmp_path: Path) -> None:
    example = load_config(EXAMPLE)
    assert example.copy_to == "soporte+Sent@example-telecom.es"
    assert example.imap.sent_folder == "Sent"
    without_folder = EXAMPLE.read_text().replace('sent_folder = "Sent"', 'sent_folder = ""')
    with pytest.raises(ConfigError, match=r"copy_address .* needs imap\.sent_folder"):
        load_config(write(tmp_path, without_folder))
    # Copies to the support address itself land in the INBOX, where intake reads them.
    inbox = without_folder.replace('copy_address = "soporte+Sent@', 'copy_address = "soporte@')
    assert load_config(write(tmp_path, inbox)).copy_to == "soporte@example-telecom.es"
    unset = re.sub(r"^copy_address = .*$", "", without_folder, flags=re.M)
    assert load_config(write(tmp_path, unset)).copy_to == "soporte@example-telecom.es"
    off = unset.replace("copy_to_support = true", "copy_to_support = false")
    assert load_config(write(tmp_path, off)).copy_to is None


def test_broken_toml_is_reported_with_position(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 1"):
        load_config(write(tmp_path, "[imap\nhost = 1"))


def test_password_comes_from_the_named_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(EXAMPLE)
    monkeypatch.delenv("MAILDESK_IMAP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="MAILDESK_IMAP_PASSWORD"):
        config.imap.resolve_password()
    monkeypatch.setenv("MAILDESK_IMAP_PASSWORD", "s3cret-value")
    assert config.imap.resolve_password() == "s3cret-value"
    assert "s3cret-value" not in repr(config)


def test_inline_password_is_never_shown(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace(
        'password_env = "MAILDESK_IMAP_PASSWORD"', 'password = "hunter2-inline"'
    )
    config = load_config(write(tmp_path, text))
    assert config.imap.resolve_password() == "hunter2-inline"
    assert "hunter2-inline" not in repr(config) and "hunter2-inline" not in str(config.imap)


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILDESK_CONFIG", "/etc/maildesk/from-env.toml")
    assert resolve_config_path("given.toml") == Path("given.toml")
    assert resolve_config_path(None) == Path("/etc/maildesk/from-env.toml")
    monkeypatch.delenv("MAILDESK_CONFIG")
    assert resolve_config_path(None) == Path("maildesk.toml")


def test_cli_reports_config_error_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, EXAMPLE.read_text().replace('format = "text"', 'format = "xml"'))
    assert main(["--config", str(path), "incidents", "list"]) == 2
    err = capsys.readouterr().err
    assert "logging.format" in err and "'json' or 'text'" in err


def test_cli_help_explains_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["--help"],
        ["run", "--help"],
        ["check", "--help"],
        ["incidents", "--help"],
        ["incidents", "list", "--help"],
        ["incidents", "show", "--help"],
    ):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "process the mail waiting now" in out
    assert "--json" in out and "--config" in out
