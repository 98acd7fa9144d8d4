"""Role constraints FATE enforces for some modules at submit (job_utils.constraint_check)."""

from __future__ import annotations

from collections.abc import Mapping

from fedloom.dsl._util import fail
from fedloom.dsl.conf import RoleTable
from fedloom.dsl.graph import ComponentNode

# Generalised linear models: the arbiter holds the Paillier key, so it must not see the guest's data
# unless the whole job is one party playing every role (a test setup).
GLM_MODULES = frozenset({"HeteroLR", "HeteroLinR", "HeteroPoisson"})


def check_glm_roles(nodes: Mapping[str, ComponentNode], roles: RoleTable) -> None:
    """§2.2-8: a party that is guest and arbiter must also be a host, and then the only kind of host."""
    guests, hosts, arbiters = (roles.roles.get(role) for role in ("guest", "host", "arbiter"))
    if not (guests and hosts and arbiters):
        return
    shared = [pid for pid in guests if pid in arbiters]
    if not shared:
        return
    for node in nodes.values():
        if node.module not in GLM_MODULES:
            continue
        for pid in shared:
            if pid not in hosts or len(shared) != len(hosts):
                fail(
                    f"component {node.name}: party {pid} is both guest and arbiter, which {node.module} "
                    f"allows only when that party is also the only host (role.host is {list(hosts)})"
                )
