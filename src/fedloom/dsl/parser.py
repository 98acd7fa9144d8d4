"""parse_job: a DSL and a runtime conf, as received by the API, into a validated JobPlan."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fedloom.dsl._util import as_dict, fail
from fedloom.dsl.catalog import ComponentCatalog
from fedloom.dsl.conf import RoleTable, ScopedSection, parse_roles, parse_scoped
from fedloom.dsl.constraints import check_glm_roles
from fedloom.dsl.convert import convert_conf_v1, convert_dsl_v1
from fedloom.dsl.graph import ComponentNode, parse_graph
from fedloom.dsl.ids import model_id_for
from fedloom.dsl.job_parameters import JobParameters, JobType, build_job_parameters
from fedloom.dsl.limits import check_component_count, check_nesting
from fedloom.dsl.params import resolve_params
from fedloom.dsl.plan import JobPlan
from fedloom.dsl.providers import parse_provider_section, resolve_providers
from fedloom.ids import Party

_CONF_KEYS = frozenset(
    {"dsl_version", "initiator", "role", "job_parameters", "component_parameters", "provider"}
)
# The flow CLI adds conf_path/dsl_path; FATE itself writes `local` into per-party confs.
_SILENT_CONF_KEYS = frozenset({"conf_path", "dsl_path", "local"})
_V1_ONLY_KEYS = ("role_parameters", "algorithm_parameters")


def parse_job(
    dsl: Any, conf: Any, catalog: ComponentCatalog, *, max_components: int | None = None
) -> JobPlan:
    """Validate both documents (spec §2.2, §3) or raise InvalidInput naming the component and field.

    `max_components` bounds the DSL (None: no bound, for jobs already stored); parsing is linear in
    the size of both documents.
    """
    check_nesting(dsl, "dsl")
    check_nesting(conf, "conf")
    check_component_count(dsl, max_components)
    dsl, conf, warnings = _as_v2(dsl, conf)
    roles = parse_roles(conf)
    job_section = parse_scoped(conf.get("job_parameters"), "conf.job_parameters", roles)
    job_parameters, job_warnings = build_job_parameters(job_section, roles)
    job_type = _job_type(job_parameters, roles)
    graph = parse_graph(dsl, predict=job_type == "predict")
    _check_modules(graph.nodes, catalog)
    section = parse_scoped(conf.get("component_parameters"), "conf.component_parameters", roles)
    _check_component_sections(section, graph.nodes, strict=job_type == "train")
    resolved = resolve_params(graph.nodes, roles, section, catalog)
    check_glm_roles(graph.nodes, roles)
    providers = parse_provider_section(conf.get("provider"), roles)
    if isinstance(providers, ScopedSection):
        _check_names(providers, graph.nodes, "conf.provider", strict=job_type == "train")
    _check_inheritance(job_parameters[roles.initiator], graph.nodes)
    return JobPlan(
        job_type=job_type,
        dsl=dsl,
        conf=_normalised_conf(conf, roles),
        roles=roles,
        components=graph.nodes,
        resolved=resolved,
        job_parameters=_with_model_id(job_parameters, job_type, roles),
        providers=resolve_providers(graph.nodes, resolved.parties, providers, roles),
        warnings=[
            *warnings,
            *_unknown_conf_keys(conf),
            *job_section.warnings,
            *job_warnings,
            *graph.warnings,
            *section.warnings,
            *resolved.warnings,
        ],
    )


def _as_v2(dsl: Any, conf: Any) -> tuple[Any, dict[str, Any], list[str]]:
    conf = as_dict(conf, "conf")
    version, warnings = _dsl_version(conf)
    if version == 1:
        converted_dsl = convert_dsl_v1(dsl) if isinstance(dsl, dict) else dsl
        return converted_dsl, convert_conf_v1(conf, dsl), [*warnings, "conf: dsl_version 1 converted to 2"]
    present = [key for key in _V1_ONLY_KEYS if key in conf]
    if present:
        fail(f'conf.{present[0]}: a dsl_version 2 conf puts parameters under "component_parameters"')
    return dsl, conf, warnings


def _dsl_version(conf: dict[str, Any]) -> tuple[int, list[str]]:
    raw = conf.get("dsl_version")
    if raw is None:
        # FATE assumes 1 here; guess from the layout so a v2 conf without the key still works.
        version = 1 if any(key in conf for key in _V1_ONLY_KEYS) else 2
        return version, [f"conf: dsl_version missing, read as {version}"]
    if isinstance(raw, bool) or raw not in (1, 2, "1", "2"):
        fail(f"conf.dsl_version: must be 2 (or 1 for a legacy conf), got {raw!r}")
    return int(raw), []


def _job_type(job_parameters: Mapping[Party, JobParameters], roles: RoleTable) -> JobType:
    job_type = job_parameters[roles.initiator].job_type
    for party, params in job_parameters.items():
        if params.job_type != job_type:
            fail(
                f'conf.job_parameters: job_type is "{params.job_type}" for {party.role} {party.party_id} '
                f'but "{job_type}" for the initiator'
            )
        if job_type == "predict" and not (params.model_id and params.model_version):
            fail(
                f'conf.job_parameters.common: job_type "predict" needs model_id and model_version '
                f"(missing for {party.role} {party.party_id})"
            )
    return job_type


def _check_modules(nodes: Mapping[str, ComponentNode], catalog: ComponentCatalog) -> None:
    for node in nodes.values():
        if catalog.module_roles(node.module) is None:
            fail(f'component {node.name}: unknown module "{node.module}"')
        data, model = catalog.output_aliases(node.module)
        for kind, declared, produced in (
            ("data", node.data_outputs, data),
            ("model", node.model_outputs, model),
        ):
            if len(declared) > len(produced):
                can = f"{len(produced)} ({', '.join(produced)})" if produced else "none"
                fail(
                    f"component {node.name}: output.{kind} declares {_aliases(len(declared))} "
                    f"but {node.module} produces {can}"
                )


def _aliases(count: int) -> str:
    return f"{count} alias" if count == 1 else f"{count} aliases"


def _check_component_sections(
    section: ScopedSection, nodes: Mapping[str, ComponentNode], strict: bool
) -> None:
    where = "conf.component_parameters"
    _check_names(section, nodes, where, strict)
    for block_where, block in _blocks(section, where):
        for name, values in block.items():
            if name in nodes and not isinstance(values, dict):
                fail(f"{block_where}.{name}: parameters must be an object")


def _check_names(
    section: ScopedSection, nodes: Mapping[str, ComponentNode], where: str, strict: bool
) -> None:
    # Predict confs are merged over the training conf, which names components the inference DSL dropped.
    if not strict:
        return
    for block_where, block in _blocks(section, where):
        for name in block:
            if name not in nodes:
                fail(f'{block_where}: "{name}" is not a component of the DSL')


def _blocks(section: ScopedSection, where: str) -> list[tuple[str, dict[str, Any]]]:
    blocks = [(f"{where}.common", section.common)]
    for role, entries in section.role.items():
        blocks += [(f'{where}.role.{role}."{entry.key}"', entry.values) for entry in entries]
    return blocks


def _check_inheritance(params: JobParameters, nodes: Mapping[str, ComponentNode]) -> None:
    listed = params.inheritance_info.get("component_list", [])
    if not isinstance(listed, list):
        fail("conf.job_parameters.inheritance_info.component_list: must be a list of component names")
    for name in listed:
        if name not in nodes:
            fail(f'conf.job_parameters.inheritance_info.component_list: no component "{name}" in the DSL')


def _with_model_id(
    job_parameters: dict[Party, JobParameters], job_type: JobType, roles: RoleTable
) -> dict[Party, JobParameters]:
    if job_type == "predict":
        return job_parameters
    # A training job's model id is FATE's, derived from the roles; the version is the job id (set later).
    model_id = model_id_for(roles.as_dict())
    return {
        party: params.model_copy(update={"model_id": model_id}) for party, params in job_parameters.items()
    }


def _normalised_conf(conf: dict[str, Any], roles: RoleTable) -> dict[str, Any]:
    normalised = copy.deepcopy(conf)
    normalised["dsl_version"] = 2
    normalised["role"] = roles.as_dict()
    normalised["initiator"] = {"role": roles.initiator.role, "party_id": roles.initiator.party_id}
    return normalised


def _unknown_conf_keys(conf: dict[str, Any]) -> list[str]:
    ignored = [key for key in conf if key not in _CONF_KEYS and key not in _SILENT_CONF_KEYS]
    return [f'conf: unknown key "{key}" ignored' for key in ignored]
