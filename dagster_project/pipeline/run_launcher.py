"""Dagster's default run launcher, able to tell that a run's worker has died.

Every warehouse writer is in one pool of one slot (``dagster_instance.yaml``). A run whose worker
is killed (``kill -9``, the out-of-memory killer, a reboot) stays STARTED and keeps its slot, and
every later run waits for it forever. Run monitoring in the daemon fixes that, but only with a
launcher that can check a worker's health, and the default one cannot. This one can: the worker
logs its process id when it starts ("Started process for run (pid: N)"; a run executed in the
process of a ``journey`` command logs its start from that process), and a process that no
longer exists, or is a zombie, is a dead worker. The monitoring daemon then marks the run failed
and frees its pool slots (``free_slots_after_run_end_seconds``), so the next run starts.

A worker killed that way leaves its step processes (the multiprocess executor's children)
running, and one of them may still write the warehouse; so when the worker is found dead, those
of its steps still alive are killed too, before the run is failed. A process id counts as the
step's only if that process started before the step logged it (a reused id never matches).

The check assumes that runs execute on the daemon's machine: the default launcher's code
server in ``make dev`` and a one-machine deployment, and ``journey`` commands run there. Runs
on other machines, or in another container's process namespace, need a launcher that can see
them (Kubernetes, ECS), or this one would take a live worker it cannot see for a dead one;
without a process table (/proc) to look in, the check reports UNKNOWN rather than guess. A
process id counts as the worker's only while that process started before the worker logged
it, so a dead worker's reused id does not keep its run alive.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

STARTED_PROCESS = "Started process for run (pid: "


def _logged_pid(event) -> int | None:  # event: EventLogEntry
    metadata = event.dagster_event.event_specific_data.metadata  # type: ignore[union-attr]
    pid = metadata.get("pid")
    return int(pid.value) if pid is not None else None


def _worker(run: DagsterRun, instance) -> tuple[int, float] | None:  # instance: DagsterInstance
    """The process that executes the run and when it said so: the one a launched worker logged
    when it started (the latest, after a resume), else the one that logged the run's start (a
    run executed in the process that asked for it, as ``journey`` commands do)."""
    events = instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT)
    for event in reversed(events):
        if event.message and event.message.startswith(STARTED_PROCESS):
            pid = _logged_pid(event)
            return (pid, event.timestamp) if pid else None
    starts = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_START)
    event = starts[-1].dagster_event if starts else None
    return (event.pid, starts[-1].timestamp) if event is not None and event.pid else None


def _is_the_logged_process(pid: int, logged_at: float, since: float | None = None) -> bool:
    """Whether ``pid`` is still the process that logged at ``logged_at``: alive, not a zombie,
    started before it logged (a process id reused since started later) and, with ``since``,
    not before then (an older process that happens to have that id)."""
    if process_state(pid) in (None, "Z", "X"):
        return False
    started = _started_at(pid)
    if started is None or started > logged_at + 1.0:
        return False
    return since is None or started >= since - 1.0


def _started_at(pid: int) -> float | None:
    """When ``pid`` started, in seconds since the epoch (from /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime in ticks


def stop_orphaned_steps(run: DagsterRun, instance) -> list[int]:
    """Kill the step processes of ``run`` that are still alive; returns their process ids."""
    killed = []
    worker = _worker(run, instance)
    run_started = worker[1] if worker else None
    for event in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_WORKER_STARTED):
        pid = _logged_pid(event)
        # a step process starts after its run and before it logs: no other process matches
        if pid is None or not _is_the_logged_process(pid, event.timestamp, since=run_started):
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
        killed.append(pid)
    return killed


def process_state(pid: int) -> str | None:
    """The kernel's state letter for ``pid`` (R, S, D, Z, ...), or None if there is none."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return "?"
    for line in status.splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    return "?"


class HealthCheckedRunLauncher(DefaultRunLauncher):
    """``DefaultRunLauncher`` plus ``check_run_worker_health`` by the worker's process id."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        worker = _worker(run, self._instance)
        if worker is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "worker not started yet")
        pid, logged_at = worker
        if not Path("/proc").is_dir():  # no process table to look in: do not guess
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, f"cannot see process {pid}")
        if not _is_the_logged_process(pid, logged_at):
            steps = stop_orphaned_steps(run, self._instance)
            stopped = f"; stopped its step processes {steps}" if steps else ""
            return CheckRunHealthResult(
                WorkerStatus.FAILED,
                f"the run worker (process {pid}) is gone: killed or crashed without "
                f"reporting{stopped}",
            )
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {pid} is alive")
