"""Who spent the CPU of a benchmark run: maildesk (this process and its sender process),
Dovecot, Postfix and the rest of the machine, read from ``/proc`` and ``getrusage``.

On a machine where everything shares two cores, the throughput of the backlog is bounded by
the CPU all of them spend per mail; this split says where it goes and what the bound is.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def _cpu_of(fields: list[str]) -> float:
    """utime + stime + cutime + cstime (its own and its reaped children's), in seconds."""
    return sum(int(value) for value in fields[11:15]) / _TICK


def tree_seconds(master: int | None) -> float:
    """CPU of a daemon master and its workers: the master's own and reaped children's time,
    and the time of the workers alive now (the services' processes are its children)."""
    if master is None:
        return 0.0
    fields = _stat_fields(master)
    if fields is None:
        return 0.0
    total = _cpu_of(fields)
    for entry in os.listdir("/proc"):
        if entry.isdigit() and entry != str(master):
            child = _stat_fields(entry)
            if child is not None and child[1] == str(master):
                total += _cpu_of(child)
    return total


def machine_busy_seconds() -> float:
    """CPU time of all CPUs not idle nor waiting for I/O, since boot."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / _TICK


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    at: float  # monotonic
    own: float  # this process, all threads (intake runs here)
    children: float  # its waited-for children (the sender process)
    dovecot: float
    postfix: float
    machine: float

    @classmethod
    def take(cls, stack_directory: Path) -> CpuSnapshot:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            time.monotonic(),
            own.ru_utime + own.ru_stime,
            children.ru_utime + children.ru_stime,
            tree_seconds(_read_pid(stack_directory / "dovecot.pid")),
            tree_seconds(_read_pid(stack_directory / "postfix.pid")),
            machine_busy_seconds(),
        )


@dataclass(frozen=True, slots=True)
class CpuSplit:
    """CPU seconds between two snapshots, by who spent them."""

    seconds: float  # wall time between the snapshots
    intake: float
    sender: float
    dovecot: float
    postfix: float
    machine: float

    @classmethod
    def between(cls, before: CpuSnapshot, after: CpuSnapshot) -> CpuSplit:
        return cls(
            after.at - before.at,
            after.own - before.own,
            after.children - before.children,
            after.dovecot - before.dovecot,
            after.postfix - before.postfix,
            after.machine - before.machine,
        )

    @property
    def rest(self) -> float:
        return max(self.machine - self.intake - self.sender - self.dovecot - self.postfix, 0.0)

    def describe(self, mails: int, cpus: int) -> tuple[str, str]:
        """(ms of CPU per mail in all, the split and the bound it sets) for the report."""

        def ms(value: float) -> float:
            return 1000 * value / mails

        per_mail = ms(self.machine)
        busy = 100 * self.machine / (self.seconds * cpus) if self.seconds > 0 else 0.0
        bound = 1000 * cpus / per_mail if per_mail > 0 else 0.0
        return (
            f"{per_mail:.1f} ms",
            f"maildesk intake {ms(self.intake):.1f} + sender {ms(self.sender):.1f}, Dovecot "
            f"{ms(self.dovecot):.1f}, Postfix {ms(self.postfix):.1f}, rest {ms(self.rest):.1f}; "
            f"the {cpus} CPUs {busy:.0f}% busy over {self.seconds:.1f} s: with all of them busy, "
            f"at most {bound:.0f} mails/s",
        )
