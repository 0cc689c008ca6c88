"""A real install: the wheel (not the editable checkout) carries the templates, the model,
the migrations and the example configuration, and works from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO_MAIL = REPO / "demo" / "mails" / "02-factura-cobrada-dos-veces.eml"


def run(args: list[str], cwd: Path, site: Path) -> subprocess.CompletedProcess[str]:
    # The wheel's files first on the path: the editable checkout must not answer for them.
    env = {**os.environ, "PYTHONPATH": str(site), "MAILDESK_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_wheel_installs_and_runs_from_another_folder(tmp_path: Path) -> None:
    dist, site, work = tmp_path / "dist", tmp_path / "site", tmp_path / "elsewhere"
    work.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps",
         "--quiet", "-w", str(dist), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [wheel] = dist.glob("maildesk-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    shipped = site / "maildesk"
    for part in (
        "templates/es/ack.txt.j2",
        "models/classifier.npz",
        "models/classifier.json",
        "config.example.toml",
        "db/migrations/versions/0001_initial_schema.py",
    ):
        assert (shipped / part).is_file(), part  # fmt: skip

    where = run(["-c", "import maildesk.config as c; print(c.PACKAGE)"], work, site)
    assert where.stdout.strip() == str(shipped)

    init = run(["-m", "maildesk.cli", "init", "desk"], work, site)
    assert init.returncode == 0, init.stderr
    config = work / "desk" / "maildesk.toml"
    check = run(["-m", "maildesk.cli", "--config", str(config), "templates", "check"], work, site)
    assert check.returncode == 0, check.stderr
    assert f"render in es, ca, en ({work / 'desk' / 'templates'})" in check.stdout

    classify = run(
        ["-m", "maildesk.cli", "--config", str(config), "classify", str(DEMO_MAIL)], work, site
    )
    assert classify.returncode == 0, classify.stderr
    assert ": billing " in classify.stdout and "invoice_error" in classify.stdout
    upgrade = run(["-m", "maildesk.cli", "--config", str(config), "db", "upgrade"], work, site)
    assert upgrade.returncode == 0 and "schema none → " in upgrade.stdout, upgrade.stderr
    assert sorted(p.name for p in work.iterdir()) == ["cache", "desk"]  # nothing strewn about
