"""What `reviews serve` settles on the Prefect server around serving: runs it left in flight, deployments the
config no longer has, and deployment names another data folder serves.

Which deployments are this data folder's: those tagged with its serve id (`serve:<id>`, kept in
`<data>/locks/serve.id`), and, from before the ids, untagged ones whose `data` parameter is this folder. A path
alone cannot tell two hosts that both keep their data in /app/data and share one Prefect server.

A run's state is recorded by the process that runs it. When that process cannot say how it ended (a stop that
outlasted Prefect's grace, a server stopped together with everything else by systemd's default
`KillMode=control-group`), the run stayed Running in the UI for ever. Only one `reviews serve` serves a data
folder (flows/serve.py holds its lock), and the runs of a serve that is gone stop themselves (flows/served.py),
so at its start and at its end any run of its deployments still said to be in flight is marked Crashed, with a
message saying what happened and what is kept.

A source removed from the config, or whose schedule was emptied, left its `crawl-<source>` deployment on the
server, schedule and all: its runs kept being scheduled and piled up as Late, since nothing serves them. Such a
deployment of this data folder is deleted when serve starts, with its scheduled runs; its past runs stay in the UI.

Prefect is imported inside the functions: flows/serve.py must set PREFECT_API_URL before its first import.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ORPHANED = ("reviews serve stopped while this run was in flight (killed, or stopped before the run could "
            "record its end); a crawl it started keeps its job state and the next run resumes it, and what "
            "it landed loads with the next run")
UNFINISHED_STATES = ("PENDING", "RUNNING", "CANCELLING")
SERVED_TAG = "reviews"  # every deployment flows/serve.py builds carries it
ID_PREFIX = "serve:"


def crawl_deployment(source: str) -> str:
    """The name of a source's deployment of the `pipeline` flow."""
    return f"crawl-{source}"


def crawl_name(source: str) -> str:
    """The full name of a source's deployment."""
    return f"pipeline/{crawl_deployment(source)}"


def serve_tag(root: Path) -> str:
    """This data folder's serve id as a deployment tag, made on first use."""
    path = Path(root).resolve() / "locks" / "serve.id"
    try:
        known = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        known = ""
    if not known:
        path.parent.mkdir(parents=True, exist_ok=True)
        known = uuid.uuid4().hex[:16]
        path.write_text(known + "\n", encoding="utf-8")
    return ID_PREFIX + known


def _pages(read: Callable[..., list[Any]], **filters: Any) -> Iterator[Any]:
    """Every item, page after page of the server's own size (a limit over the server's refused with a 422)."""
    offset, size = 0, 0
    while True:
        page = read(offset=offset, **filters)
        yield from page
        if not page or len(page) < size:
            return
        size = max(size, len(page))
        offset += len(page)


def _served(client: Any) -> list[tuple[str, Any]]:
    """(full name, deployment) of every deployment `reviews serve` registered on the server, any data folder's."""
    flows: dict[Any, str] = {}
    served = []
    for deployment in _pages(client.read_deployments):
        if SERVED_TAG not in (deployment.tags or []):
            continue
        if deployment.flow_id not in flows:
            flows[deployment.flow_id] = client.read_flow(deployment.flow_id).name
        served.append((f"{flows[deployment.flow_id]}/{deployment.name}", deployment))
    return served


def _folder(deployment: Any) -> str | None:
    return (deployment.parameters or {}).get("data")


def _ours(deployment: Any, root: Path) -> bool:
    tags = deployment.tags or []
    if serve_tag(root) in tags:
        return True
    return not any(tag.startswith(ID_PREFIX) for tag in tags) and _folder(deployment) == str(root)


def settle_orphaned_runs(root: Path) -> list[str]:
    """Mark Crashed every unfinished run of this data folder's deployments; return their names.

    Called when no run of them should be alive: before serving starts, and after it ended.
    """
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    root = Path(root).resolve()
    settled: list[str] = []
    with get_client(sync_client=True) as client:
        ids = [deployment.id for _, deployment in _served(client) if _ours(deployment, root)]
        if not ids:
            return settled
        unfinished = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(state)
                                                                         for state in UNFINISHED_STATES]))
        runs = list(_pages(client.read_flow_runs, flow_run_filter=FlowRunFilter(state=unfinished),
                           deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids))))
        for run in runs:
            if (run.parameters or {}).get("data") != str(root):  # a run for another data folder
                continue
            client.set_flow_run_state(run.id, Crashed(message=ORPHANED), force=True)
            settled.append(run.name)
    return settled


def retire_stale_deployments(root: Path, current: list[str]) -> list[str]:
    """Delete this data folder's deployments whose full name is not in `current`; return their names."""
    from prefect import get_client

    root = Path(root).resolve()
    retired: list[str] = []
    with get_client(sync_client=True) as client:
        for name, deployment in _served(client):
            if _ours(deployment, root) and name not in current:
                client.delete_deployment(deployment.id)
                retired.append(name)
    return sorted(retired)


def taken_names(root: Path, names: list[str]) -> dict[str, str]:
    """Of `names`, the deployments on the server that serve another data folder: {full name: its data folder}.

    Deployment names hold no data folder, so two folders served from one Prefect server overwrote each other's
    deployments: one folder's serve then ran the other's crawls, and stopping either paused both (serve QA).
    """
    from prefect import get_client

    root = Path(root).resolve()
    with get_client(sync_client=True) as client:
        return {name: str(_folder(deployment)) for name, deployment in _served(client)
                if name in names and not _ours(deployment, root)}


def pause_deployments(root: Path, names: list[str]) -> list[str]:
    """Pause this data folder's deployments of `names` (their schedules stop making runs); return their names."""
    from prefect import get_client

    if not names:
        return []
    root = Path(root).resolve()
    paused: list[str] = []
    with get_client(sync_client=True) as client:
        for name, deployment in _served(client):
            if _ours(deployment, root) and name in names:
                client.pause_deployment(deployment.id)
                paused.append(name)
    return sorted(paused)
