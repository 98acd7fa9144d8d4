"""JobService over SQLite: what submit stores (or refuses to store), the queries, and the changes."""

from __future__ import annotations

import pytest

from fedloom.errors import Conflict, InvalidInput, NotFound
from fedloom.ids import Party
from fedloom.platform import Platform
from fedloom.services.catalog import Services
from fedloom.services.jobs import JobListQuery, JobService, TaskQuery
from tests.services.conftest import psi_job


def _submit(jobs: JobService) -> str:
    dsl, conf = psi_job()
    return jobs.submit(dsl, conf).job_id


def test_submit_stores_the_job_and_its_tasks_at_every_party(services: Services) -> None:
    dsl, conf = psi_job()
    res = services.jobs.submit(dsl, conf)
    rows = services.jobs.require(res.job_id)
    assert {(r.role, r.party_id, r.status) for r in rows} == {
        ("guest", 9999, "waiting"),
        ("host", 10000, "waiting"),
    }
    assert res.model_version == res.job_id and res.model_id.startswith("guest-9999#host-10000")
    tasks = services.jobs.tasks(TaskQuery(job_id=res.job_id))
    assert len(tasks) == 6 and {t.status for t in tasks} == {"waiting"}
    jp = next(r for r in rows if r.is_initiator).runtime_conf_on_party["job_parameters"]
    assert (jp["task_cores"], jp["model_id"], jp["model_version"]) == (1, res.model_id, res.job_id)


@pytest.mark.parametrize(
    ("guest", "host", "missing"), [("nope", "host_t", "guest 9999"), ("guest_t", "gone", "host 10000")]
)
def test_submit_refuses_a_reader_table_the_party_lacks(
    services: Services, guest: str, host: str, missing: str
) -> None:
    dsl, conf = psi_job(guest, host)
    with pytest.raises(
        InvalidInput,
        match=f"component reader_0: table experiment.* not found at {missing}; "
        r"upload it first \(data/upload\)",
    ):
        services.jobs.submit(dsl, conf)
    assert services.jobs.query(role="guest") == []


def test_submit_refuses_more_cores_than_the_party_has(platform: Platform) -> None:
    dsl, conf = psi_job()
    conf["job_parameters"] = {"common": {"task_cores": platform.settings.total_cores + 1}}
    with pytest.raises(InvalidInput, match="would reserve"):
        platform.services.jobs.submit(dsl, conf)


def test_submit_refuses_a_conf_that_is_not_an_object(services: Services) -> None:
    with pytest.raises(InvalidInput, match="job_runtime_conf: must be an object"):
        services.jobs.submit({}, [])


def test_query_filters_only_on_what_is_given(services: Services) -> None:
    job_id = _submit(services.jobs)
    assert len(services.jobs.query(job_id=job_id)) == 2
    assert [r.role for r in services.jobs.query(job_id=job_id, is_initiator=True)] == ["guest"]
    assert services.jobs.query(job_id=job_id, party_id=1) == []


def test_list_jobs_pages_and_refuses_unknown_order_columns(services: Services) -> None:
    first, second = _submit(services.jobs), _submit(services.jobs)
    page = services.jobs.list_jobs(JobListQuery(limit=1, roles=("guest",), order_by="create_time"))
    assert page.total == 2 and [r.job_id for r in page.jobs] == [second]
    page = services.jobs.list_jobs(JobListQuery(roles=("guest",), order="asc"))
    assert [r.job_id for r in page.jobs] == [first, second]
    with pytest.raises(InvalidInput, match="order_by: unknown column 'f_status'"):
        services.jobs.list_jobs(JobListQuery(order_by="f_status"))


def test_config_picks_the_party_and_names_a_missing_one(services: Services) -> None:
    job_id = _submit(services.jobs)
    assert services.jobs.config(job_id, "host", None).party_id == 10000
    with pytest.raises(NotFound, match=f"job {job_id} has no arbiter 1"):
        services.jobs.config(job_id, "arbiter", 1)


def test_initiator_party_fills_in_what_the_request_omits(services: Services) -> None:
    job_id = _submit(services.jobs)
    assert services.jobs.initiator_party(job_id, None, None) == Party("guest", 9999)
    assert services.jobs.initiator_party(job_id, "host", None) == Party("host", 9999)
    assert services.jobs.initiator_party("unknown_job", "host", 10000) == Party("host", 10000)
    with pytest.raises(NotFound, match="job unknown_job not found"):
        services.jobs.initiator_party("unknown_job", None, None)


def test_update_notes_and_parameters(services: Services) -> None:
    job_id = _submit(services.jobs)
    services.jobs.update_notes(job_id, "guest", 9999, "first try")
    assert services.jobs.config(job_id, "guest", 9999).description == "first try"
    assert services.jobs.config(job_id, "host", 10000).description == ""
    res = services.jobs.update_parameters(job_id, {"common": {"task_parallelism": 2}}, None)
    assert res.job_parameters["common"] == {"task_cores": 1, "task_parallelism": 2}
    assert res.components == ["reader_0", "data_transform_0", "intersection_0"]
    with pytest.raises(InvalidInput):
        services.jobs.update_parameters(job_id, None, {"common": {"no_such_component": {}}})
    assert (
        services.jobs.config(job_id, None, None).runtime_conf["job_parameters"]["common"]["task_parallelism"]
        == 2
    )


def test_stop_checks_the_status_then_cancels_a_waiting_job(services: Services) -> None:
    job_id = _submit(services.jobs)
    with pytest.raises(InvalidInput, match="stop_status: must be canceled or failed"):
        services.jobs.stop(job_id, "success")
    with pytest.raises(NotFound):
        services.jobs.stop("unknown_job")
    services.jobs.stop(job_id)
    assert {r.status for r in services.jobs.require(job_id)} == {"canceled"}
    with pytest.raises(Conflict, match="already ended"):
        services.jobs.stop(job_id)


def test_clean_queue_cancels_the_waiting_jobs(services: Services) -> None:
    job_id = _submit(services.jobs)
    assert services.jobs.clean_queue() == [job_id]
    assert services.jobs.clean_queue() == []


def test_logs_and_components_need_a_known_job(services: Services) -> None:
    job_id = _submit(services.jobs)
    assert services.jobs.logs_directory(job_id) == f"logs/{job_id}"
    assert services.jobs.components(job_id) == ["reader_0", "data_transform_0", "intersection_0"]
    with pytest.raises(NotFound, match=f"no logs for job {job_id}"):
        services.jobs.log_archive(job_id)
    with pytest.raises(NotFound):
        services.jobs.logs_directory("unknown_job")


def test_dependency_of_a_stored_job_and_of_a_plan(services: Services) -> None:
    dsl, conf = psi_job()
    job_id = services.jobs.submit(dsl, conf).job_id
    stored = services.jobs.dependency(job_id, "guest", 9999)
    assert stored == services.jobs.plan_dependency(dsl, conf, "guest", 9999)
