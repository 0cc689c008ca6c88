"""A maildesk configuration pointing at the local mail stack (demo, tests, benchmarks)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
PACKAGE = Path(__file__).resolve().parents[1]
EXAMPLE = PACKAGE / "config.example.toml"
TEMPLATES = PACKAGE / "templates"
MODELS = PACKAGE / "models"

SUPPORT = "support@maildesk.test"
SUPPORT_SENT = "support+Sent@maildesk.test"  # filed into support's Sent folder by the stack
DISTRIBUTOR = "distribuidor@maildesk.test"
TECHNICAL = "tecnico@operador.test"
BILLING = "cdf@operador.test"


def _set(text: str, section: str, key: str, value: str) -> str:
    """Replace ``key = …`` inside ``[section]`` of the example file (keeps its comments)."""
    pattern = re.compile(
        rf"(^\[{re.escape(section)}\][^\[]*?^){re.escape(key)}\s*=.*?$", re.M | re.S
    )
    new, count = pattern.subn(lambda m: f"{m.group(1)}{key} = {value}", text, count=1)
    if count != 1:
        raise KeyError(f"[{section}] {key} not found in {EXAMPLE}")
    return new


def stack_config_text(
    *,
    imap_port: int,
    smtp_port: int,
    database_url: str,
    password: str = "secret",
    processed_folder: str = "Processed",
    backoff_initial_seconds: float = 1.0,
    poll_interval_seconds: float = 2.0,
    log_format: str = "text",
    copy_to_support: bool = False,
    copies_in_inbox: bool = False,
    handoff: bool = False,
    separate_process: bool = False,
    digest: bool = False,
    extra: str = "",
) -> str:
    """The example configuration with the stack's addresses, ports and test-friendly timings.

    Delivery copies are off by default so that tests can count the support mailbox exactly;
    the tests of the crash window and the demo turn them on. They go to ``support+Sent@``,
    which the stack files into support's Sent folder, or with ``copies_in_inbox`` to the
    support address itself (a server without plus addressing into folders). Forwards to the
    teams are off too unless ``handoff``: the hand-off tests and the demo turn them on.

    The sender runs in-process by default so that an injected clock reaches it; its own
    tests and the demo turn the separate sender process on.
    """
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('# templates_dir = "templates"', f'templates_dir = "{TEMPLATES}"')
    text = text.replace('# models_dir = "models"', f'models_dir = "{MODELS}"')
    for key, value in {
        "host": '"127.0.0.1"',
        "port": str(imap_port),
        "security": '"none"',
        "username": f'"{SUPPORT}"',
        "password_env": "",
        "processed_folder": f'"{processed_folder}"',
        "poll_interval_seconds": str(poll_interval_seconds),
        "reconnect_initial_seconds": "0.2",
        "reconnect_max_seconds": "2",
    }.items():
        text = _set(text, "imap", key, value)
    for key, value in {
        "host": '"127.0.0.1"',
        "port": str(smtp_port),
        "security": '"none"',
        "username": '""',
        "password_env": "",
        "backoff_initial_seconds": str(backoff_initial_seconds),
        "backoff_max_seconds": "10",
        "poll_interval_seconds": "1",
        "sending_lease_seconds": "30",
        "copy_to_support": "true" if copy_to_support else "false",
        "copy_address": f'"{SUPPORT if copies_in_inbox else SUPPORT_SENT}"',
        "separate_process": "true" if separate_process else "false",
    }.items():
        text = _set(text, "smtp", key, value)
    text = re.sub(r"^password_env = $", f'password = "{password}"', text, flags=re.M)
    text = _set(text, "database", "url", f'"{database_url}"')
    text = _set(text, "company", "support_address", f'"{SUPPORT}"')
    text = _set(text, "company", "distributor_address", f'"{DISTRIBUTOR}"')
    text = _set(text, "company", "own_addresses", '["noreply@maildesk.test"]')
    text = _set(text, "routing", "technical_service", f'"{TECHNICAL}"')
    text = _set(text, "routing", "billing_centre", f'"{BILLING}"')
    # Forwards to the teams off unless a test asks (so that others count acknowledgements).
    text = _set(text, "routing", "forward", "true" if handoff else "false")
    text = _set(text, "logging", "format", f'"{log_format}"')
    # Scheduled mail to the distributor depends on the wall clock: off unless a test asks.
    text = _set(text, "digest", "enabled", "true" if digest else "false")
    text = _set(text, "escalation", "enabled", "true" if digest else "false")
    return text + extra


def write_stack_config(path: Path, **kwargs: object) -> Path:
    path.write_text(stack_config_text(**kwargs), encoding="utf-8")  # type: ignore[arg-type]
    return path


def write_local_config(
    directory: Path, imap_port: int, smtp_port: int, name: str = "maildesk", **kwargs: object
) -> Path:
    """``directory/<name>.toml`` on the stack's ports, with the SQLite file ``<name>.db``
    beside it."""
    return write_stack_config(
        directory / f"{name}.toml",
        imap_port=imap_port,
        smtp_port=smtp_port,
        database_url=f"sqlite:///{directory / f'{name}.db'}",
        **kwargs,
    )


def write_offline_config(directory: Path, **kwargs: Any) -> Path:
    """``directory/maildesk.toml`` on a SQLite file in ``directory``, for work that needs no
    mail server (the IMAP and SMTP ports are never used)."""
    return write_local_config(directory, 1, 1, **kwargs)
