"""TableService over SQLite and a real table store: upload, the upload job it records, info, preview,
history, download, delete."""

from __future__ import annotations

import pytest

from fedloom.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fedloom.platform import Platform
from fedloom.services.catalog import Services
from fedloom.services.jobs import TaskQuery
from fedloom.services.tables import UPLOAD_COMPONENT, UploadRequest
from tests.services.conftest import GUEST_CSV


def test_upload_stores_the_table_and_records_a_local_job(services: Services) -> None:
    res = services.tables.upload(UploadRequest("exp", "t1", partition=3, file_name="t1.csv"), GUEST_CSV)
    assert (res.namespace, res.table_name, res.count, res.partitions) == ("exp", "t1", 3, 3)
    [job] = services.jobs.query(job_id=res.job_id)
    assert (job.role, job.party_id, job.status, job.description) == ("local", 0, "success", "upload")
    [task] = services.jobs.tasks(TaskQuery(job_id=res.job_id))
    assert (task.component_name, task.status) == (UPLOAD_COMPONENT, "success")
    [table] = services.tracking.output_tables(res.job_id, UPLOAD_COMPONENT, "local", 0)
    assert (table.namespace, table.name, table.data_name) == ("exp", "t1", "data")


def test_upload_refuses_an_existing_table_unless_dropped(services: Services) -> None:
    with pytest.raises(Conflict, match="already exists"):
        services.tables.upload(UploadRequest("experiment", "guest_t"), GUEST_CSV)
    res = services.tables.upload(UploadRequest("experiment", "guest_t", drop=True, partition=1), GUEST_CSV)
    assert res.partitions == 1


@pytest.mark.parametrize(
    ("req", "error"),
    [
        (UploadRequest("output_data_j_c_0", "t"), PermissionDenied),
        (UploadRequest("exp", "t", partition=0), InvalidInput),
        (UploadRequest("exp", "../t"), InvalidInput),
    ],
)
def test_upload_targets_refused_before_any_byte(
    services: Services, req: UploadRequest, error: type[Exception]
) -> None:
    with pytest.raises(error):
        services.tables.check_upload_target(req)


def test_info_preview_and_history(services: Services) -> None:
    info = services.tables.table_info("experiment", "guest_t")
    assert info is not None and (info.count, info.partitions) == (3, 2)
    assert info.schema["header"] == ["y", "x0", "x1"]
    assert services.tables.table_info("experiment", "absent") is None
    preview = services.tables.preview("experiment", "guest_t", 2)
    assert preview.header[1:] == ["y", "x0", "x1"] and len(preview.rows) == 2 and preview.count == 3
    history = services.tables.upload_history(None, 10)
    assert [h.upload_info["table_name"] for h in history] == ["host_t", "guest_t"]
    assert history[0].notes == "upload" and history[0].schema["sid"] == "id"
    assert len(services.tables.upload_history(None, 1)) == 1
    assert services.tables.upload_history(history[1].job_id, 10)[0].job_id == history[1].job_id


def test_download_writes_inside_the_export_dir_and_shows_the_callers_path(platform: Platform) -> None:
    res = platform.services.tables.download("experiment", "host_t", "out/", ",")
    assert (res.output_path, res.count) == ("out/experiment_host_t.csv", 3)
    written = platform.settings.resolved_export_dir / "out" / "experiment_host_t.csv"
    assert written.read_text().splitlines()[0] == "id,x2,x3"
    with pytest.raises(PermissionDenied, match="export_dir"):
        platform.services.tables.download("experiment", "host_t", "../../escape.csv", ",")
    with pytest.raises(NotFound):
        platform.services.tables.download("experiment", "absent", "x.csv", ",")


def test_delete(services: Services) -> None:
    services.tables.delete("experiment", "host_t")
    assert services.tables.table_info("experiment", "host_t") is None
    with pytest.raises(NotFound, match="no find table experiment.host_t"):
        services.tables.delete("experiment", "host_t")
    with pytest.raises(PermissionDenied):
        services.tables.delete("output_data_j_c_0", "t")


def test_a_server_file_outside_import_dirs_is_refused(services: Services) -> None:
    with pytest.raises(PermissionDenied, match="import_dirs"):
        services.tables.import_server_file("/etc/passwd")
