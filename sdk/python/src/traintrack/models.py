"""``client.models``: the model registry (ModelService): models, their numbered versions, aliases and their history.

Example::

    mv = client.models.register("churn-xgb", "model/", framework="xgboost", signature={"inputs": [...]})
    client.models.set_alias("churn-xgb", "production", mv.version, reason="auc 0.93 on holdout")
    m = client.models.get("churn-xgb", alias="production")     # or version=3, or the latest
    m.download("serving/")                                      # every file, sha256-checked
    client.models.alias_history("churn-xgb", "production")      # who moved it, when, why
    client.models.search("churn-xgb", where="metrics.auc > 0.9", order_by="-metrics.auc")

Inside a run, ``run.log_model("model/", name="churn-xgb")`` logs the files as the
run's artefacts and registers them as a version without a second upload.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

from google.protobuf.timestamp_pb2 import Timestamp

from . import _model_register
from ._gen.v1 import model_pb2
from ._model_models import AliasChange, AliasHistory, AliasMove, ModelAlias, RegisteredModel, RunArtefacts, SignatureLike
from ._model_search import parse_order_by, parse_where
from ._model_version import ModelVersion
from ._pages import paged
from .errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from .client import Client
    from .runs import Run, RunInfo


def _tags(tags: Optional[Mapping[str, object]]) -> "dict[str, str]":
    return {str(k): str(v) for k, v in (tags or {}).items()}


class Models:
    """The model registry, as ``client.models``; see the module's example."""

    def __init__(self, client: "Client") -> None:
        self._client = client
        self._t = client._transport

    # --- registered models ----------------------------------------------------------

    def create(self, name: str, *, project: Optional[str] = None, description: str = "", tags: Optional[Mapping[str, object]] = None) -> RegisteredModel:
        """Creates a model (in ``project``, whose grants then govern it; else the organisation's).

        A retry with the same project and description returns the model created first;
        anything else by that name is AlreadyExists.
        """
        request = model_pb2.CreateRegisteredModelRequest(name=name, project=project or "", description=description, tags=_tags(tags))
        return RegisteredModel._from_proto(self._t.call(self._t.models.CreateRegisteredModel, request, what="CreateRegisteredModel").model)

    def get_model(self, name: str) -> RegisteredModel:
        """A model with its aliases and latest version number; NotFound when absent."""
        request = model_pb2.GetRegisteredModelRequest(name=name)
        return RegisteredModel._from_proto(self._t.call(self._t.models.GetRegisteredModel, request, what="GetRegisteredModel").model)

    def list(self, project: Optional[str] = None, prefix: Optional[str] = None, *, page_size: int = 100) -> Iterator[RegisteredModel]:
        """The models (of ``project``; whose name starts with ``prefix``) by name; paged lazily."""

        def fetch(token: str) -> model_pb2.ListRegisteredModelsResponse:
            request = model_pb2.ListRegisteredModelsRequest(project=project or "", name_prefix=prefix or "", page_size=page_size, page_token=token)
            page: model_pb2.ListRegisteredModelsResponse = self._t.call(self._t.models.ListRegisteredModels, request, what="ListRegisteredModels")
            return page

        return paged(fetch, lambda page: page.models, RegisteredModel._from_proto)

    def update(self, name: str, *, description: Optional[str] = None, set_tags: Optional[Mapping[str, object]] = None, remove_tags: Iterable[str] = ()) -> RegisteredModel:
        """Changes a model's description (when given) and tags (set, then removed)."""
        request = model_pb2.UpdateRegisteredModelRequest(name=name, set_tags=_tags(set_tags), remove_tags=list(remove_tags))
        if description is not None:
            request.description = description
        return RegisteredModel._from_proto(self._t.call(self._t.models.UpdateRegisteredModel, request, what="UpdateRegisteredModel").model)

    # --- versions -------------------------------------------------------------------

    def register(
        self,
        name: str,
        source: _model_register.Source,
        *,
        run: Union[None, str, "Run", "RunInfo"] = None,
        framework: str = "",
        signature: SignatureLike = None,
        description: str = "",
        tags: Optional[Mapping[str, object]] = None,
        project: Optional[str] = None,
        create_model: bool = True,
        request_id: Optional[str] = None,
    ) -> ModelVersion:
        """Registers the next version of ``name`` (1, 2, 3 …), creating the model when missing.

        Args:
            source: A local file or directory (every file under it, at its relative path),
                uploaded then registered all or none; or ``tt.RunArtefacts(run, "model/")``:
                a run's artefacts under a prefix, registered without copying a byte.
            run: The run that made the files (lineage), when they come from a local path.
            framework: e.g. ``"xgboost"``, ``"pytorch"``, ``"onnx"``.
            signature: Inputs and outputs: a dict (sent as JSON) or JSON text.
            description: Markdown (a model card).
            project: Where the model is created when missing (its grants govern it).
            create_model: False: NotFound when the model does not exist.
            request_id: Makes retries return the version created first (at most 64 bytes); by default fresh for
                a local path, and derived from the run, prefix, files and metadata for run artefacts.
        """
        request = _model_register.build_request(
            name, run=run, framework=framework, signature=signature, description=description, tags=tags, project=project, create_model=create_model
        )
        if isinstance(source, RunArtefacts):
            return _model_register.from_run_artefacts(self._client, request, source, request_id)
        if not isinstance(source, (str, os.PathLike)):
            raise InvalidArgument(f"{type(source).__name__} is not a source of files: pass a local path, or tt.RunArtefacts(run, \"model/\") for a run's artefacts")
        return _model_register.from_path(self._client, request, source, request_id)

    def get(self, name: str, *, version: Optional[int] = None, alias: Optional[str] = None) -> ModelVersion:
        """One version: by number, by alias, or (neither) the latest. NotFound when there is none."""
        if version is not None and alias is not None:
            raise InvalidArgument("give version= or alias=, not both")
        if version is None and alias is None:
            latest = next(self.versions(name, page_size=1), None)
            if latest is None:
                raise NotFound(f'model "{name}" has no versions yet')
            return latest
        request = model_pb2.GetModelVersionRequest(model=name)
        if alias is not None:
            request.alias = alias
        else:
            request.version = int(version)  # type: ignore[arg-type]  # not None here
        return ModelVersion(self._client, self._t.call(self._t.models.GetModelVersion, request, what="GetModelVersion").version)

    def versions(self, name: str, *, page_size: int = 100) -> Iterator[ModelVersion]:
        """The versions of a model, newest first; paged lazily."""

        def fetch(token: str) -> model_pb2.ListModelVersionsResponse:
            request = model_pb2.ListModelVersionsRequest(model=name, page_size=page_size, page_token=token)
            page: model_pb2.ListModelVersionsResponse = self._t.call(self._t.models.ListModelVersions, request, what="ListModelVersions")
            return page

        return paged(fetch, lambda page: page.versions, lambda v: ModelVersion(self._client, v))

    def update_version(
        self, name: str, version: int, *, description: Optional[str] = None, set_tags: Optional[Mapping[str, object]] = None, remove_tags: Iterable[str] = ()
    ) -> ModelVersion:
        """Changes a version's description (when given) and tags (set, then removed); its files never change."""
        request = model_pb2.UpdateModelVersionRequest(model=name, version=version, set_tags=_tags(set_tags), remove_tags=list(remove_tags))
        if description is not None:
            request.description = description
        return ModelVersion(self._client, self._t.call(self._t.models.UpdateModelVersion, request, what="UpdateModelVersion").version)

    def search(
        self,
        name_or_names: Union[None, str, Sequence[str]] = None,
        *,
        where: str = "",
        order_by: str = "",
        alias: Optional[str] = None,
        page_size: int = 100,
    ) -> Iterator[ModelVersion]:
        """Versions of one model, several, or (None) every model you may read, matching ``where``; paged lazily.

        Example::

            client.models.search("churn-xgb", where="metrics.auc > 0.9 and tags.stage = prod", order_by="-metrics.auc")

        Args:
            where: Conditions joined by ``and``: ``metrics.KEY`` (<, <=, >, >= a number; the run's
                latest value), ``params.KEY = V`` (the run's), ``tags.KEY = V``, ``framework = V``,
                ``alias = V``. What the server cannot ask (``or``, ``!=`` …) is InvalidArgument.
            order_by: ``"-metrics.auc"`` (highest first), ``"metrics.loss"`` (lowest first); each
                version's value is in ``sort_metric``. Empty: newest first.
            alias: Only the version this alias points to, in each model.
        """
        found = parse_where(where)
        metric, descending = parse_order_by(order_by)
        if alias is not None and found.alias and alias != found.alias:
            raise InvalidArgument(f"alias={alias!r} and where's alias = {found.alias!r} contradict each other")
        names = [name_or_names] if isinstance(name_or_names, str) else list(name_or_names or [])

        def fetch(token: str) -> model_pb2.SearchModelVersionsResponse:
            request = model_pb2.SearchModelVersionsRequest(
                models=names, alias=alias or found.alias, tags=found.tags, framework=found.framework, run_params=found.params,
                run_metrics=found.thresholds(), order_by_metric=metric, descending=descending, page_size=page_size, page_token=token,
            )  # fmt: skip
            page: model_pb2.SearchModelVersionsResponse = self._t.call(self._t.models.SearchModelVersions, request, what="SearchModelVersions")
            return page

        return paged(fetch, lambda page: page.versions, lambda v: ModelVersion(self._client, v))

    # --- aliases --------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int, *, reason: str = "", protected: Optional[bool] = None) -> AliasChange:
        """Points ``alias`` at ``version`` (creating or moving it); the move joins the alias's history.

        ``protected=True`` protects it (only a maintainer of the model may then move it),
        False unprotects it, None keeps it as it is.
        """
        request = model_pb2.SetModelAliasRequest(model=name, alias=alias, version=version, reason=reason)
        if protected is not None:
            request.protected = protected
        response = self._t.call(self._t.models.SetModelAlias, request, what="SetModelAlias")
        return AliasChange(ModelAlias._from_proto(response.alias), response.previous_version or None)

    def delete_alias(self, name: str, alias: str, *, reason: str = "") -> None:
        """Removes an alias; the removal is kept in its history (``to_version`` None)."""
        request = model_pb2.DeleteModelAliasRequest(model=name, alias=alias, reason=reason)
        self._t.call(self._t.models.DeleteModelAlias, request, what="DeleteModelAlias")

    def alias_history(self, name: str, alias: Optional[str] = None, *, at: Optional[datetime] = None) -> AliasHistory:
        """Every move of ``alias`` (or of every alias of the model), newest first.

        With ``at`` (a datetime; naive means UTC), ``version_at`` is the version the alias
        pointed to at that time ("what was in production on 3 March?"), None if none.
        """
        if at is not None and not alias:
            raise InvalidArgument("at= needs an alias: which version did which alias point to?")
        stamp = None
        if at is not None:
            stamp = Timestamp()
            stamp.FromDatetime(at if at.tzinfo else at.replace(tzinfo=timezone.utc))
        moves: List[AliasMove] = []
        version_at = 0
        token = ""
        while True:
            request = model_pb2.GetModelAliasHistoryRequest(model=name, alias=alias or "", at=stamp, page_size=1000, page_token=token)
            page = self._t.call(self._t.models.GetModelAliasHistory, request, what="GetModelAliasHistory")
            moves.extend(AliasMove._from_proto(m) for m in page.moves)
            version_at = version_at or page.version_at
            token = page.next_page_token
            if not token:
                break
        return AliasHistory(name, alias or None, tuple(moves), at, (version_at or None) if at is not None else None)
