"""Registering a model version: its files from a local path (uploaded) or from a run's artefacts (no byte copied).

From a local file or directory, every file is uploaded with the client's
Uploader (streamed, resumed after a break, checked by sha256), then one
CreateModelVersion names the uploads: the version gets all of them or, if an
upload or the call fails, none (the staged uploads are then discarded).

From a run's artefacts, nothing is uploaded: CreateModelVersion names the run
and a path prefix, and the server points the version at the stored bytes.

CreateModelVersion is retried by the transport after a lost response with
the same request_id, so a retry returns the version created first instead of
registering a second one. By default that id is fresh per call for uploads
(the files are uploaded again by a second call anyway), and derived from
what is registered for run artefacts: the run, the prefix, the model, the
metadata and the sha256 of every file. A script that is run again after
dying before it saw the answer then gets the version it created, not a copy.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
import uuid
from typing import TYPE_CHECKING, List, Mapping, Optional, Tuple, Union

from . import _run_artefacts
from ._gen.v1 import dataset_pb2, model_pb2
from ._model_models import RunArtefacts, SignatureLike, signature_text
from ._model_version import ModelVersion
from ._paths import check_artefact_path
from ._run_artefacts import LocalFile
from ._upload import UploadResult
from .dataset import PathLike, guess_media_type
from .errors import InvalidArgument

if TYPE_CHECKING:
    from .client import Client
    from .runs import Run, RunInfo

#: The most files one CreateModelVersion takes from uploads (the server's limit).
MAX_UPLOADED_FILES = 10_000

Source = Union[PathLike, RunArtefacts]


def _local_files(path: PathLike) -> List[LocalFile]:
    """A file as itself (by its base name), or every file under a directory by relative path."""
    local = os.path.abspath(os.fspath(path))
    if os.path.isfile(local):
        name = check_artefact_path(os.path.basename(local))
        return [LocalFile(name, local, guess_media_type(name))]
    if not os.path.isdir(local):
        raise FileNotFoundError(f"{os.fspath(path)!r} is neither a file nor a directory")
    files = _run_artefacts.directory_files(local, "")
    if not files:
        raise InvalidArgument(f"{os.fspath(path)!r} has no files to register")
    if len(files) > MAX_UPLOADED_FILES:
        raise InvalidArgument(f"{os.fspath(path)!r} has {len(files)} files; a version takes at most {MAX_UPLOADED_FILES}")
    return files


def _run_id(run: Union[None, str, "Run", "RunInfo"]) -> str:
    return "" if run is None else RunArtefacts(run).run_id


def build_request(
    name: str,
    *,
    run: Union[None, str, "Run", "RunInfo"],
    framework: str,
    signature: SignatureLike,
    description: str,
    tags: Optional[Mapping[str, object]],
    project: Optional[str],
    create_model: bool,
) -> model_pb2.CreateModelVersionRequest:
    """CreateModelVersion without its source and request id."""
    return model_pb2.CreateModelVersionRequest(
        model=name,
        run_id=_run_id(run),
        framework=framework,
        signature=signature_text(signature),
        description=description,
        tags={str(k): str(v) for k, v in (tags or {}).items()},
        create_model=create_model,
        project=project or "",
    )


def derived_request_id(request: model_pb2.CreateModelVersionRequest, files: List[Tuple[str, str]]) -> str:
    """A request id naming exactly this registration: the request (minus its id) and every (path, sha256)."""
    hasher = hashlib.sha256(request.SerializeToString(deterministic=True))
    for path, sha256 in sorted(files):
        hasher.update(f"\0{path}\0{sha256}".encode())
    # The server takes ids of at most 64 bytes: the digest in base64url (43 characters) fits with a prefix.
    return "mv-" + base64.urlsafe_b64encode(hasher.digest()).decode().rstrip("=")


def from_run_artefacts(client: "Client", request: model_pb2.CreateModelVersionRequest, source: RunArtefacts, request_id: Optional[str]) -> ModelVersion:
    """Registers the run's artefacts under ``source.prefix``; InvalidArgument when there are none (before registering)."""
    if request.run_id and request.run_id != source.run_id:
        raise InvalidArgument(f'run "{request.run_id}" is not the run of the artefacts ("{source.run_id}"); leave run= out')
    request.run_id = source.run_id
    request.run_artefacts.CopyFrom(source._to_proto())
    if request_id is None:
        stored = _run_artefacts.list_artefacts(client, source.run_id, source.prefix)
        if not stored:
            raise InvalidArgument(f'run "{source.run_id}" has no artefacts under {source.prefix!r}: nothing to register')
        request_id = derived_request_id(request, [(a.name, a.sha256) for a in stored])
    request.request_id = request_id
    return _create(client, request)


def from_path(client: "Client", request: model_pb2.CreateModelVersionRequest, path: PathLike, request_id: Optional[str]) -> ModelVersion:
    """Uploads the file, or every file under the directory, and registers them as one version, all or none."""
    files = _local_files(path)
    uploader = client._uploader
    uploads: List[Tuple[LocalFile, UploadResult]] = []
    try:
        for f in files:
            uploads.append((f, uploader.upload_file(f.path, posixpath.basename(f.name), f.media_type)))
        request.uploads.files.extend(dataset_pb2.ArtefactSource(upload_id=u.upload_id, path=f.name) for f, u in uploads)
        request.request_id = request_id or str(uuid.uuid4())
        return _create(client, request)
    except BaseException:
        # Free the staged bytes now rather than when they expire (a committed upload refuses, harmlessly).
        for _, upload in uploads:
            uploader.abort(upload.upload_id)
        raise


def _create(client: "Client", request: model_pb2.CreateModelVersionRequest) -> ModelVersion:
    t = client._transport
    response = t.call(t.models.CreateModelVersion, request, what=f'CreateModelVersion of "{request.model}"')
    return ModelVersion(client, response.version)


def log_model(
    client: "Client",
    run: "Run",
    path: PathLike,
    request: model_pb2.CreateModelVersionRequest,
    artefact_path: Optional[str],
    request_id: Optional[str],
) -> ModelVersion:
    """``Run.log_model``: the files become the run's artefacts under a prefix, then a version made from them.

    Logging is idempotent (a path keeps its bytes; the same bytes are not sent again), and
    the registration's request id is derived from what is registered, so calling it again
    after a failure, in this process or a new one, returns the version created first.
    """
    prefix = check_artefact_path((artefact_path if artefact_path is not None else request.model).strip("/"))
    local = os.path.abspath(os.fspath(path))
    if os.path.isdir(local):
        run.log_artefacts(local, prefix=prefix)
    elif os.path.isfile(local):
        run.log_artefact(local, name=f"{prefix}/{os.path.basename(local)}")
    else:
        raise FileNotFoundError(f"{os.fspath(path)!r} is neither a file nor a directory")
    request.create_model = True
    request.project = request.project or run.info.project
    return from_run_artefacts(client, request, RunArtefacts(run.id, f"{prefix}/"), request_id)
