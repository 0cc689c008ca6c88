"""Running the project's service scripts (``scripts/*.sh``) from Python, and their folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO_SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"


def script_path(name: str, env_var: str) -> Path:
    """``scripts/NAME`` of this repository; the environment variable ``env_var`` wins."""
    override = os.environ.get(env_var)
    return Path(override) if override else REPO_SCRIPTS / name


def make_reachable_directory(prefix: str, base: Path | None = None) -> Path:
    """A fresh folder under ``base`` (default /tmp) that system users (postfix, dovecot,
    postgres) can reach: pytest's ``tmp_path`` (parents mode 0700) cannot be used."""
    if base is None and os.path.isdir("/tmp"):
        base = Path("/tmp")
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    directory.chmod(0o755)
    return directory


def remove_directory(directory: Path) -> None:
    """Delete a (stopped) service folder, ignoring errors."""
    shutil.rmtree(directory, ignore_errors=True)


def run_script(
    script: Path,
    env_var: str,
    command: str,
    directory: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``SCRIPT COMMAND --dir DIRECTORY``; raise RuntimeError with its output."""
    if not script.is_file():
        raise RuntimeError(f"script not found: {script} (set {env_var})")
    try:
        result = subprocess.run(
            ["bash", str(script), command, "--dir", str(directory)],
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.output if isinstance(exc.output, str) else ""
        raise RuntimeError(
            f"{script.name} {command} timed out after {timeout:.0f}s\n{output}"
        ) from exc
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{script.name} {command} --dir {directory} failed (exit {result.returncode}):\n"
            f"{result.stdout}"
        )
    return result
