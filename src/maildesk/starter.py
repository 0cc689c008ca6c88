"""``maildesk init DIR``: a starter installation for an admin to tune, without touching code —
a ``maildesk.toml`` (the documented example) and a copy of the templates it points at. The
trained model is used from inside maildesk until the admin trains one of their own."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from maildesk.config import PACKAGE, load_config

CONFIG_NAME = "maildesk.toml"
TEMPLATES_NAME = "templates"


class StarterError(Exception):
    """Files are in the way: named, with the way out."""


def write_starter(directory: Path, *, force: bool = False) -> list[Path]:
    """Write ``directory/maildesk.toml`` and ``directory/templates/``; refuse to overwrite
    either unless ``force``. Returns what was written."""
    config_path = directory / CONFIG_NAME
    templates = directory / TEMPLATES_NAME
    in_the_way = [p for p in (config_path, templates) if p.exists()]
    if in_the_way and not force:
        names = ", ".join(str(p) for p in in_the_way)
        raise StarterError(f"{names} already exist(s); --force overwrites them")
    directory.mkdir(parents=True, exist_ok=True)
    text = (PACKAGE / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace(
        f'# templates_dir = "{TEMPLATES_NAME}"', f'templates_dir = "{TEMPLATES_NAME}"', 1
    )
    if templates.exists():
        shutil.rmtree(templates)
    shutil.copytree(PACKAGE / TEMPLATES_NAME, templates)
    handle, temporary = tempfile.mkstemp(prefix=".maildesk-", suffix=".toml", dir=directory)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, config_path)
    load_config(config_path)  # what we wrote must load: a broken starter is our bug
    return [config_path, templates]
