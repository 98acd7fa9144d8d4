"""Parsed job plans, cached per job: the DSL and conf are parsed once, not at every scheduler event."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType

from fedloom.components.registry import Catalog
from fedloom.dsl import JobPlan, parse_job
from fedloom.store.models import JobRow


class PlanCache:
    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._plans: OrderedDict[str, JobPlan] = OrderedDict()
        self._deps: dict[str, Mapping[str, frozenset[str]]] = {}
        self.catalog = Catalog()

    def parse(self, dsl: object, conf: object, *, max_components: int | None = None) -> JobPlan:
        """Parse a new job; `max_components` (settings.max_job_components) bounds its DSL.

        Jobs already stored are parsed without the bound: a lowered setting must not break them.
        """
        return parse_job(dsl, conf, self.catalog, max_components=max_components)

    def remember(self, job_id: str, plan: JobPlan) -> None:
        with self._lock:
            self._plans[job_id] = plan
            self._trim()

    def _trim(self) -> None:
        while len(self._plans) > self._size:
            gone, _ = self._plans.popitem(last=False)
            self._deps.pop(gone, None)

    def get(self, job: JobRow) -> JobPlan:
        with self._lock:
            plan = self._plans.get(job.job_id)
            if plan is not None:
                self._plans.move_to_end(job.job_id)
                return plan
        plan = self.parse(job.dsl, job.runtime_conf)
        self.remember(job.job_id, plan)
        return plan

    def dependencies(self, job: JobRow) -> Mapping[str, frozenset[str]]:
        """Each component's direct upstream, in topological order; computed once per job."""
        with self._lock:
            deps = self._deps.get(job.job_id)
        if deps is None:
            plan = self.get(job)
            deps = MappingProxyType({name: node.upstream for name, node in plan.components.items()})
            with self._lock:
                if job.job_id in self._plans:
                    self._deps[job.job_id] = deps
        return deps

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._plans.pop(job_id, None)
            self._deps.pop(job_id, None)


__all__ = ["PlanCache"]
