"""Traintrack's Python SDK: versioned datasets with lineage, experiment tracking, a model registry, pipeline tracking.

Example::

    import traintrack as tt

    client = tt.Client()  # TRAINTRACK_URL and TRAINTRACK_API_KEY from the environment
    ds = tt.Dataset(name="customer_churn", description="export from CRM", version="1.0.0")
    ds.add_file("data/churn.csv")
    saved = client.datasets.save(ds)
    v1 = client.datasets.get("customer_churn", version="1.0.0")
    df = v1.to_pandas("churn.csv")

    with client.start_run(project="churn", experiment="xgb-sweep", params={"lr": 0.1}) as run:
        run.use_dataset(v1)
        run.log({"loss": 0.4}, step=1)   # returns at once: a background logger batches
        run.log_artefact("model.pt")     # what the run made, kept with it
        mv = run.log_model("model/", name="churn-xgb", framework="xgboost")   # a new model version

    client.models.set_alias("churn-xgb", "production", mv.version, reason="auc 0.93")
    client.models.get("churn-xgb", alias="production").download("serving/")
    client.lineage(mv)                                   # model → run → datasets

    pipe = client.pipelines.get_or_create("nightly-churn", project="churn")
    with pipe.run(params={"date": "2026-11-29"}) as prun:          # steps, their DAG, what they read and wrote
        with prun.step("extract", outputs=["s3://raw/churn/2026-11-29"]) as s: ...
    prun.graph().to_mermaid()

    client.whoami()                                      # who this key is, and its roles
    client.admin.users.create("alice", role="editor")    # users, groups, grants, keys, audit

Importing the package does not contact the server; pandas and pyarrow are
imported only when a DataFrame is used (``pip install './sdk/python[pandas]'`` from a clone).
"""

from ._roles import ROLES, SCOPES as KEY_SCOPES
from ._admin_models import (
    ApiKey,
    AuditEvent,
    Grant,
    Group,
    NewApiKey,
    NewOrganization,
    Organization,
    User,
    WhoAmI,
)
from ._models import Artefact, DatasetRef, DatasetSummary, Lineage, LineageEdge
from ._lineage import LineageGraph, LineageGraphEdge, LineageNode
from ._model_models import AliasChange, AliasHistory, AliasMove, ModelAlias, ModelRef, RegisteredModel, RunArtefacts
from ._model_version import ModelVersion
from ._metric_failures import MetricsNotDelivered
from ._metric_options import LoggerOptions
from ._replay import SpoolReplay
from ._transport import RetryPolicy
from .admin import Admin
from .client import Client, Datasets
from .dataset import Dataset, DatasetVersion, LocalArtefact
from .models import Models
from ._pipeline_decorator import CachedStep, current_step, source_hash, step
from ._pipeline_io import ExternalDataset, RunArtefactRef, StepIOItem, StepIOLike
from ._pipeline_models import PipelineDAG, PipelineGraph, PipelineGraphNode, PipelineRunInfo, StepEdge, StepInfo, StepInstance
from ._pipeline_bulk import StepRecord
from ._pipeline_run import PipelineRun
from ._pipeline_step import PipelineStep
from .pipelines import Pipeline, Pipelines
from .runs import LogResult, MetricPoint, MetricSeries, Run, RunInfo, Runs
from .errors import (
    Aborted,
    AlreadyExists,
    Cancelled,
    ConfigurationError,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    TraintrackError,
    Unauthenticated,
    Unavailable,
    Unimplemented,
)

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Datasets",
    "Dataset",
    "DatasetVersion",
    "LocalArtefact",
    "Artefact",
    "DatasetRef",
    "DatasetSummary",
    "Lineage",
    "LineageEdge",
    "Models",
    "ModelVersion",
    "RegisteredModel",
    "ModelAlias",
    "ModelRef",
    "AliasChange",
    "AliasMove",
    "AliasHistory",
    "RunArtefacts",
    "Pipelines",
    "Pipeline",
    "PipelineRun",
    "PipelineStep",
    "StepRecord",
    "PipelineRunInfo",
    "PipelineDAG",
    "StepInfo",
    "StepInstance",
    "StepEdge",
    "PipelineGraph",
    "PipelineGraphNode",
    "ExternalDataset",
    "RunArtefactRef",
    "CachedStep",
    "step",
    "current_step",
    "source_hash",
    "LineageGraph",
    "LineageNode",
    "LineageGraphEdge",
    "RetryPolicy",
    "Run",
    "Runs",
    "RunInfo",
    "MetricPoint",
    "MetricSeries",
    "LogResult",
    "LoggerOptions",
    "MetricsNotDelivered",
    "Admin",
    "User",
    "Group",
    "Grant",
    "ApiKey",
    "NewApiKey",
    "AuditEvent",
    "Organization",
    "NewOrganization",
    "WhoAmI",
    "ROLES",
    "KEY_SCOPES",
    "SpoolReplay",
    "TraintrackError",
    "ConfigurationError",
    "InvalidArgument",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "Unauthenticated",
    "FailedPrecondition",
    "Aborted",
    "ResourceExhausted",
    "Unavailable",
    "DeadlineExceeded",
    "Cancelled",
    "DataLoss",
    "Internal",
    "Unimplemented",
]
