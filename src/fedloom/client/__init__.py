"""The fedloom Python SDK: an HTTP client for the /v1 API and a pipeline builder."""

from fedloom.client._jobs import ProgressCallback
from fedloom.client.errors import ApiError, JobFailed, ServerUnreachable, TaskFailure, WaitTimeout
from fedloom.client.http import DEFAULT_SERVER, FedloomClient
from fedloom.client.pipeline import (
    HETERO_LR_DEFAULTS,
    JobResult,
    Pipeline,
    hetero_lr_pipeline,
    inputs,
    psi_pipeline,
)
from fedloom.client.results import DataWithMeta, JobProgress, SubmitResult, TaskProgress

__all__ = [
    "DEFAULT_SERVER",
    "HETERO_LR_DEFAULTS",
    "ApiError",
    "DataWithMeta",
    "FedloomClient",
    "JobFailed",
    "JobProgress",
    "JobResult",
    "Pipeline",
    "ProgressCallback",
    "ServerUnreachable",
    "SubmitResult",
    "TaskFailure",
    "TaskProgress",
    "WaitTimeout",
    "hetero_lr_pipeline",
    "inputs",
    "psi_pipeline",
]
