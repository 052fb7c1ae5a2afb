"""What runs produce (models, checkpoints, plots), by run id: log, list, open, download (RunArtefactService).

Logging uploads each file with the Uploader (streamed, resumed, checked by
sha256), then commits the uploads with LogRunArtefacts, which gives the run
all of them or none. A path keeps one content for the life of the run, so
before any byte is sent the run's artefacts at those paths are read: a file
already there with the same size and sha256 is not uploaded again (a
retried script costs a listing and a local hash), and one there with other
content is AlreadyExists. A failure aborts the staged uploads.

LogRunArtefacts takes at most 1,000 artefacts. More files are uploaded
first, every one, and then committed in calls of 1,000: each call is all or
none, and a failure between calls leaves the earlier calls' files on the run.
Calling again with the same files then finishes the job without uploading
those again. (Refusing a large directory would push the user to split it by
hand, with the same outcome and less help.)

Reading goes through the ArtefactReader that datasets use: seekable streams
checked by sha256 and resumed after a break, and files written under a
temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from ._download import ArtefactReader, DownloadResponse
from ._gen.v1 import dataset_pb2, run_artefact_pb2
from ._models import Artefact
from ._paths import check_artefact_path
from ._upload import UploadResult
from .dataset import PathLike, guess_media_type
from .errors import AlreadyExists, InvalidArgument, NotFound

if TYPE_CHECKING:
    from .client import Client


#: The most artefacts one LogRunArtefacts commits (the server's limit).
MAX_ARTEFACTS_PER_CALL = 1000
_PAGE_SIZE = 1000  # the server's largest page

@dataclass(frozen=True)
class LocalFile:
    """A local file to log as an artefact of a run, at ``name``."""

    name: str
    path: str
    media_type: str


def local_file(path: PathLike, name: Optional[str], media_type: Optional[str]) -> LocalFile:
    """One file, by default named after its base name; FileNotFoundError, InvalidArgument (name)."""
    local = os.path.abspath(os.fspath(path))
    if not os.path.isfile(local):
        raise FileNotFoundError(f"{os.fspath(path)!r} is not a file")
    artefact_name = check_artefact_path(name if name is not None else os.path.basename(local))
    return LocalFile(artefact_name, local, media_type or guess_media_type(artefact_name))


def directory_files(directory: PathLike, prefix: str) -> List[LocalFile]:
    """Every file under ``directory``, named by its relative path under ``prefix``, in path order.

    Symbolic links to files are followed, to directories not; other special files
    (sockets, FIFOs) are skipped. NotADirectoryError, InvalidArgument (a name).
    """
    root = os.path.abspath(os.fspath(directory))
    if not os.path.isdir(root):
        raise NotADirectoryError(f"{os.fspath(directory)!r} is not a directory")
    base = prefix.rstrip("/")
    if base:
        check_artefact_path(base)
    files = []

    def unreadable(error: OSError) -> None:
        raise error  # os.walk would skip the directory: the run would silently miss its files

    for parent, dirs, names in os.walk(root, onerror=unreadable):
        dirs.sort()
        for file_name in names:
            path = os.path.join(parent, file_name)
            if not os.path.isfile(path):
                continue
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            name = check_artefact_path(f"{base}/{relative}" if base else relative)
            files.append(LocalFile(name, path, guess_media_type(name)))
    files.sort(key=lambda f: f.name)
    return files


def log_files(client: "Client", run_id: str, files: Sequence[LocalFile]) -> List[Artefact]:
    """Uploads ``files`` and commits them to the run (see the module docstring); returns them as the run holds them.

    Raises:
        NotFound: no run ``run_id`` (before any upload).
        AlreadyExists: the run has one of the paths with other content (before any upload,
            or from the server when another writer took the path meanwhile).
        InvalidArgument: a path or file name the server refuses; two files under one path.
        DataLoss: a file changed while it was uploaded.
    """
    names = [f.name for f in files]
    twice = sorted(n for n, count in Counter(names).items() if count > 1)
    if twice:
        raise InvalidArgument(f"several files would be logged as {', '.join(repr(n) for n in twice)}; give each file its own name")
    if not files:
        return []
    stored = _stored_at(client, run_id, names)
    _refuse_other_content(run_id, files, stored)
    pending = [f for f in files if f.name not in stored]

    t = client._transport
    uploader = client._uploader
    uploads: List[Tuple[LocalFile, UploadResult]] = []
    committed = 0
    logged: Dict[str, Artefact] = {}
    try:
        for f in pending:
            uploads.append((f, uploader.upload_file(f.path, posixpath.basename(f.name), f.media_type)))
        for start in range(0, len(uploads), MAX_ARTEFACTS_PER_CALL):
            batch = uploads[start : start + MAX_ARTEFACTS_PER_CALL]
            request = run_artefact_pb2.LogRunArtefactsRequest(
                run_id=run_id, artefacts=[dataset_pb2.ArtefactSource(upload_id=u.upload_id, path=f.name) for f, u in batch]
            )
            # A retry after a lost response names the same bytes under the same paths: a no-op.
            response: run_artefact_pb2.LogRunArtefactsResponse = t.call(
                t.run_artefacts.LogRunArtefacts, request, what=f"LogRunArtefacts of run {run_id}"
            )
            committed += len(batch)
            logged.update((a.path, Artefact._from_proto(a)) for a in response.artefacts)
    except BaseException:
        # Free the staged bytes now rather than when they expire.
        for _, upload in uploads[committed:]:
            uploader.abort(upload.upload_id)
        raise
    return [logged[f.name] if f.name in logged else stored[f.name] for f in files]


def _stored_at(client: "Client", run_id: str, names: Sequence[str]) -> Dict[str, Artefact]:
    """The run's artefacts at ``names`` (those it has), read under the names' common prefix."""
    wanted = set(names)
    prefix = os.path.commonprefix(list(names))
    return {a.name: a for a in _list(client, run_id, prefix) if a.name in wanted}


def _refuse_other_content(run_id: str, files: Sequence[LocalFile], stored: Dict[str, Artefact]) -> None:
    """AlreadyExists if a file differs from what the run has at its path (hashing only those the run has)."""
    conflicts = []
    for f in files:
        have = stored.get(f.name)
        if have is None:
            continue
        size = os.path.getsize(f.path)
        digest = _sha256(f.path) if size == have.size else None
        if digest != have.sha256:
            local = f"{size} bytes with sha256 {digest}" if digest else f"{size} bytes"
            conflicts.append(f'"{f.name}" (the run has {have.size} bytes with sha256 {have.sha256}; {f.path} has {local})')
    if conflicts:
        raise AlreadyExists(
            f'run "{run_id}" already has other content at {", ".join(conflicts)}; nothing was uploaded. '
            "A run's artefacts are immutable: log the new content under another name"
        )


def _sha256(path: str) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(8 * 1024 * 1024), b""):
            hasher.update(block)
    return hasher.hexdigest()


def _list(client: "Client", run_id: str, prefix: str) -> Iterator[Artefact]:
    t = client._transport
    token = ""
    while True:
        request = run_artefact_pb2.ListRunArtefactsRequest(run_id=run_id, path_prefix=prefix, page_size=_PAGE_SIZE, page_token=token)
        page: run_artefact_pb2.ListRunArtefactsResponse = t.call(t.run_artefacts.ListRunArtefacts, request, what="ListRunArtefacts")
        yield from (Artefact._from_proto(a) for a in page.artefacts)
        token = page.next_page_token
        if not token:
            return


def list_artefacts(client: "Client", run_id: str, prefix: str = "") -> List[Artefact]:
    """The run's artefacts whose path starts with ``prefix``, by path. NotFound: no such run."""
    return list(_list(client, run_id, prefix))


def find(client: "Client", run_id: str, names: Iterable[str]) -> List[Artefact]:
    """The run's artefacts called ``names``, in that order; NotFound for the run or a name it lacks."""
    wanted = list(names)
    if not wanted:
        return []
    stored = _stored_at(client, run_id, wanted)
    missing = [n for n in wanted if n not in stored]
    if missing:
        listed = ", ".join(f'"{n}"' for n in missing)
        raise NotFound(f'run "{run_id}" has no artefact {listed}; client.runs.artefacts("{run_id}") lists the ones it has')
    return [stored[n] for n in wanted]


def reader(client: "Client", run_id: str) -> ArtefactReader:
    """Streams and downloads the artefacts of run ``run_id``."""
    t = client._transport

    def open_at(path: str, offset: int) -> Iterator[DownloadResponse]:
        request = run_artefact_pb2.DownloadRunArtefactRequest(run_id=run_id, path=path, offset=offset)
        return t.stream(t.download_run_artefact, request)

    return ArtefactReader(t, open_at, f'run "{run_id}"', client._progress)


def open_artefact(client: "Client", run_id: str, name: str, mode: str, encoding: Optional[str]) -> IO[Any]:
    """A read-only stream over one artefact (see ArtefactReader.open); NotFound for the run or the name."""
    if mode not in ("rb", "r"):
        raise ValueError(f"mode must be 'rb' or 'r', not {mode!r}")
    (artefact,) = find(client, run_id, [name])
    return reader(client, run_id).open(artefact, mode, encoding=encoding)


def download(client: "Client", run_id: str, dir: PathLike, names: Optional[Iterable[str]]) -> List[Path]:
    """Writes the run's artefacts (all, or ``names``) under ``dir`` at their paths; returns the files."""
    chosen = list_artefacts(client, run_id) if names is None else find(client, run_id, names)
    return reader(client, run_id).download(Path(dir), chosen)
