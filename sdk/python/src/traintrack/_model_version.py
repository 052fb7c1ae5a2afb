"""``ModelVersion``: one immutable version of a registered model, its metadata, and its files read on demand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional

from ._download import ArtefactReader, DownloadResponse
from ._gen.v1 import model_pb2
from ._model_models import AliasChange, ModelRef, parse_signature
from ._models import Artefact, to_datetime
from .errors import NotFound

if TYPE_CHECKING:
    from ._lineage import LineageGraph
    from .client import Client
    from .dataset import PathLike

#: Files per ListModelFiles page (the server allows up to 10,000).
_FILE_PAGE = 1000


def _file(f: model_pb2.ModelFile) -> Artefact:
    return Artefact(name=f.path, size=f.size, sha256=f.sha256, media_type=f.media_type)


class ModelVersion:
    """A version of a registered model: immutable files and metadata, and the run that made it.

    Attributes:
        name: The model's name.
        version: Its number (1, 2, 3 …).
        run_id: The run that made it, or None.
        framework: e.g. ``"xgboost"``, ``"pytorch"``, ``"onnx"``; ``""`` when not given.
        signature: Its inputs and outputs as registered, parsed from JSON (usually a dict);
            None when it has none. ``signature_text`` is the JSON text as stored.
        description: Markdown (a model card).
        tags: String key/value pairs (``update`` changes them).
        files: Every file (``name`` is its path in the version, with size, sha256, media type):
            the server sends the first 1,000, the rest are read page by page on first use.
        file_count, total_size: How many files, and their bytes.
        aliases: The aliases pointing at it when it was read.
        created_at, created_by: When it was registered (UTC), and by which user.
        sort_metric: From ``client.models.search(order_by=...)``: the run's latest value
            of that metric; None otherwise, or when the run has no such metric.
    """

    def __init__(self, client: "Client", v: model_pb2.ModelVersion) -> None:
        self._client = client
        self.name: str = v.model
        self.version: int = v.version
        self.run_id: Optional[str] = v.run_id or None
        self.framework: str = v.framework
        self.signature_text: str = v.signature
        self.signature: Any = parse_signature(v.signature)
        self.description: str = v.description
        self.tags: Dict[str, str] = dict(v.tags)
        self._first_page: List[Artefact] = [_file(f) for f in v.files]
        self.file_count: int = v.file_count
        self._all_files: Optional[List[Artefact]] = self._first_page if len(self._first_page) >= v.file_count else None
        self.total_size: int = v.total_size
        self.aliases: List[str] = list(v.aliases)
        self.created_at: Optional[datetime] = to_datetime(v.created_at)
        self.created_by: str = v.created_by
        self.sort_metric: Optional[float] = v.sort_metric if v.HasField("sort_metric") else None

    def __repr__(self) -> str:
        names = [f.name for f in self._first_page[:10]]
        more = f" and {self.file_count - len(names)} more" if self.file_count > len(names) else ""
        return f"ModelVersion(name={self.name!r}, version={self.version}, aliases={self.aliases!r}, files={names!r}{more})"

    @property
    def ref(self) -> ModelRef:
        """This version's model name and number (``churn-xgb@3``)."""
        return ModelRef(self.name, self.version)

    @property
    def files(self) -> List[Artefact]:
        """Every file, by path; a large version's are read page by page on first use, then kept."""
        if self._all_files is None:
            self._all_files = list(self.iter_files())
        return self._all_files

    def iter_files(self, prefix: str = "") -> Iterator[Artefact]:
        """The files whose path starts with ``prefix``, by path, fetched a page at a time as the iterator advances."""
        if self._all_files is not None:
            yield from (f for f in self._all_files if f.name.startswith(prefix))
            return
        t = self._client._transport
        token = ""
        while True:
            request = model_pb2.ListModelFilesRequest(model=self.name, version=self.version, path_prefix=prefix, page_size=_FILE_PAGE, page_token=token)
            page = t.call(t.models.ListModelFiles, request, what=f"ListModelFiles {self.ref}")
            yield from (_file(f) for f in page.files)
            token = page.next_page_token
            if not token:
                return

    def file(self, path: str) -> Artefact:
        """The file at ``path``; NotFound when the version has none."""
        for f in self.iter_files(path):
            if f.name == path:
                return f
        raise NotFound(f"{self.ref} has no file {path!r}; it has {[f.name for f in self.files[:20]]}")

    def open(self, path: str, mode: str = "rb", *, encoding: Optional[str] = None) -> IO[Any]:
        """Opens a file as a read-only stream (``"rb"``, seekable, or ``"r"`` for text), fetched as it is read.

        Reading it from start to end checks its sha256 (DataLoss on a mismatch); a broken
        connection resumes where it stopped.
        """
        if mode not in ("rb", "r"):
            raise ValueError(f"mode must be 'rb' or 'r', not {mode!r}")
        return self._reader().open(self.file(path), mode, encoding=encoding)

    def download(self, dir: "PathLike", *, paths: Optional[Iterable[str]] = None) -> List[Path]:
        """Writes every file (or those in ``paths``) under ``dir`` at its path; returns the files written.

        Each file is streamed (resumed after a broken connection), checked against its
        sha256 (DataLoss on a mismatch), written under a temporary name and renamed when
        complete; a path that would land outside ``dir`` is refused before anything is written.
        The files are read by version number, so a version got by alias downloads that
        version even if the alias moves meanwhile.
        """
        chosen = self.files if paths is None else [self.file(p) for p in paths]
        return self._reader().download(Path(dir), chosen)

    def _reader(self) -> ArtefactReader:
        t = self._client._transport
        name, version = self.name, self.version

        def open_at(path: str, offset: int) -> Iterator[DownloadResponse]:
            request = model_pb2.DownloadModelFileRequest(model=name, version=version, path=path, offset=offset)
            return t.stream(t.download_model_file, request)

        return ArtefactReader(t, open_at, str(self.ref), self._client._progress)

    def set_alias(self, alias: str, *, reason: str = "", protected: Optional[bool] = None) -> AliasChange:
        """Points ``alias`` at this version; the same as ``client.models.set_alias(name, alias, version, ...)``."""
        return self._client.models.set_alias(self.name, alias, self.version, reason=reason, protected=protected)

    def update(self, *, description: Optional[str] = None, set_tags: Optional[Mapping[str, object]] = None, remove_tags: Iterable[str] = ()) -> "ModelVersion":
        """Changes the description and tags (its files never change); returns the version as updated."""
        return self._client.models.update_version(self.name, self.version, description=description, set_tags=set_tags, remove_tags=remove_tags)

    def lineage(self, **options: Any) -> "LineageGraph":
        """The lineage graph around this version (its run, the datasets it learnt from …); see ``client.lineage``."""
        return self._client.lineage(self, **options)
