"""TrackingService over SQLite: metrics (NaN made JSON-safe), parameters, output model, output data."""

from __future__ import annotations

import tarfile

import pytest

from fedloom.errors import NoData, NotFound
from fedloom.ids import TaskKey
from fedloom.platform import Platform
from fedloom.services.catalog import Services
from fedloom.services.tables import UPLOAD_COMPONENT
from tests.services.conftest import psi_job


def test_metrics_group_points_and_meta_and_make_nan_safe(platform: Platform) -> None:
    key = TaskKey("j1", "hetero_lr_0", 0, "guest", 9999)
    platform.stores.tracking.log_metric(key, "train", "loss", [(0, 0.7), (1, float("nan"))], None)
    platform.stores.tracking.log_metric(key, "train", "loss", [], {"metric_type": "LOSS"})
    tracking = platform.services.tracking
    found = tracking.metrics(*key[:2], "guest", 9999)
    series = found["train"]["loss"]
    assert series.data == [[0, 0.7], [1, None]]
    assert series.meta == {"metric_type": "LOSS", "name": "loss"}
    assert tracking.metric("j1", "hetero_lr_0", "guest", 9999, "train", "loss") == series
    with pytest.raises(NotFound, match="no metric train/auc for hetero_lr_0 at guest 9999"):
        tracking.metric("j1", "hetero_lr_0", "guest", 9999, "train", "auc")
    assert tracking.metrics("j1", "hetero_lr_0", "host", 10000) == {}


def test_parameters_of_a_component(services: Services) -> None:
    dsl, conf = psi_job()
    job_id = services.jobs.submit(dsl, conf).job_id
    found = services.tracking.parameters(job_id, "data_transform_0", "guest", 9999)
    assert found.module == "DataTransform" and found.params["label_name"] == "y"
    with pytest.raises(NotFound, match="has no component nope"):
        services.tracking.parameters(job_id, "nope", "guest", 9999)
    with pytest.raises(NotFound, match="has no arbiter 1"):
        services.tracking.parameters(job_id, "reader_0", "arbiter", 1)


def test_output_model(platform: Platform) -> None:
    key = TaskKey("j2", "hetero_lr_0", 0, "guest", 9999)
    assert platform.services.tracking.output_model(*key[:2], "guest", 9999) is None
    platform.stores.tracking.save_model(key, "model", "HeteroLR", {"weight": [1.0]}, {"iters": 3})
    found = platform.services.tracking.output_model(*key[:2], "guest", 9999)
    assert found is not None
    assert (found.module, found.param, found.meta) == ("HeteroLR", {"weight": [1.0]}, {"iters": 3})


def test_output_data_preview_and_archive(services: Services) -> None:
    [upload] = services.tables.upload_history(None, 1)
    previews = services.tracking.output_data(upload.job_id, UPLOAD_COMPONENT, "local", 0, 2)
    [p] = previews
    assert (p.name, p.total, len(p.rows)) == ("data", 3, 2)
    archive = services.tracking.output_data_archive(upload.job_id, UPLOAD_COMPONENT, "local", 0, -1)
    try:
        with tarfile.open(archive.path) as tar:
            assert sorted(tar.getnames()) == ["data.csv", "data.meta"]
    finally:
        archive.close()
    with pytest.raises(NoData):
        services.tracking.output_data_archive(upload.job_id, "nope", "local", 0, -1)


def test_summary_of_the_upload(services: Services) -> None:
    [upload] = services.tables.upload_history(None, 1)
    summary = services.tracking.summary(upload.job_id, UPLOAD_COMPONENT, "local", 0)
    assert summary["upload_info"]["upload_count"] == 3
    assert services.tracking.summary(upload.job_id, "nope", "local", 0) == {}
