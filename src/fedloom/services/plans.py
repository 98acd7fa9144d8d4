"""Parsed job plans, cached per job: the DSL and conf are parsed once, not at every scheduler event."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fedloom.components.registry import Catalog
from fedloom.dsl import JobPlan, parse_job
from fedloom.store.models import JobRow


class PlanCache:
    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._plans: OrderedDict[str, JobPlan] = OrderedDict()
        self.catalog = Catalog()

    def parse(self, dsl: Any, conf: Any) -> JobPlan:
        return parse_job(dsl, conf, self.catalog)

    def get(self, job: JobRow) -> JobPlan:
        with self._lock:
            plan = self._plans.get(job.job_id)
            if plan is not None:
                self._plans.move_to_end(job.job_id)
                return plan
        plan = self.parse(job.dsl, job.runtime_conf)
        with self._lock:
            self._plans[job.job_id] = plan
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)
        return plan

    def dependencies(self, job: JobRow) -> dict[str, set[str]]:
        plan = self.get(job)
        return {name: set(node.upstream) for name, node in plan.components.items()}

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._plans.pop(job_id, None)


__all__ = ["PlanCache"]
