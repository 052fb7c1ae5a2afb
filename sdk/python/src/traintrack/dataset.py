"""Datasets: ``Dataset`` is a version being assembled locally, ``DatasetVersion`` one saved on the server."""

from __future__ import annotations

import mimetypes
import os
import posixpath
import shutil
import tempfile
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ._download import ArtefactReader, DownloadResponse
from ._gen.v1 import dataset_pb2
from ._models import PARQUET_MEDIA_TYPE, Artefact, DatasetRef, Lineage, format_of, to_datetime
from ._paths import check_artefact_path
from ._tables import TABULAR, read_table, write_table
from .errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import pandas

    from .client import Client

PathLike = Union[str, "os.PathLike[str]"]
#: Artefacts per ListArtefacts page (the server allows up to 10,000).
_ARTEFACT_PAGE = 1000
#: Anything that names a dataset version: a saved version, a DatasetRef, ("name", "version") or "name@version".
VersionLike = Union["DatasetVersion", DatasetRef, Tuple[str, str], str]

_MEDIA_TYPES = {
    ".parquet": PARQUET_MEDIA_TYPE,
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".txt": "text/plain",
}

# Model and array files, stored as opaque bytes. mimetypes reads the machine's
# /etc/mime.types, where ".pt" is often "application/vnd.snesdev-page-table":
# without this, a checkpoint's media type would depend on the machine that logged it.
_OPAQUE_EXTENSIONS = frozenset(
    {".pt", ".pth", ".ckpt", ".safetensors", ".bin", ".pkl", ".pickle", ".joblib", ".npy", ".npz", ".onnx", ".gguf", ".pb", ".tflite", ".keras"}
)


def as_ref(value: VersionLike) -> DatasetRef:
    """A DatasetRef from a saved version, a DatasetRef, a (name, version) pair or ``"name@version"``."""
    if isinstance(value, DatasetRef):
        return value
    if isinstance(value, DatasetVersion):
        return value.ref
    if isinstance(value, tuple) and len(value) == 2:
        return DatasetRef(str(value[0]), str(value[1]))
    if isinstance(value, str) and "@" in value:
        name, _, version = value.rpartition("@")
        return DatasetRef(name, version)
    raise InvalidArgument(f"{value!r} does not name a dataset version; use a DatasetVersion, tt.DatasetRef(name, version) or \"name@version\"")


def guess_media_type(path: str) -> str:
    """The media type of a file from its extension; ``application/octet-stream`` when unknown."""
    extension = posixpath.splitext(path)[1].lower()
    if extension in _OPAQUE_EXTENSIONS:
        return "application/octet-stream"
    return _MEDIA_TYPES.get(extension) or mimetypes.guess_type(path)[0] or "application/octet-stream"


@dataclass(frozen=True)
class LocalArtefact:
    """A file added to a Dataset that is not saved yet.

    Attributes:
        name: Its path inside the dataset.
        path: The local file it is read from at save time.
        media_type: The media type it will be stored with.
    """

    name: str
    path: str
    media_type: str


class Dataset:
    """A dataset version assembled locally: metadata and files, uploaded by ``client.datasets.save``.

    Example::

        ds = tt.Dataset(name="customer_churn", description="export from CRM", version="1.0.0")
        ds.add_file("data/churn.csv")
        ds.add_dataframe("features", df)
        saved = client.datasets.save(ds)

    Args:
        name: Letters, digits, ".", "_" and "-", starting with a letter or digit (at most 128 bytes).
        description: Free text (at most 4096 bytes).
        version: E.g. ``"1.0.0"``; letters, digits, ".", "_", "+" and "-" (at most 64 bytes). Required.
        metadata: String key/value pairs stored with the version.
        derived_from: The versions this one was made from (its lineage).

    Files are read when the dataset is saved, not when added; DataFrames are
    written to a temporary Parquet file when added.
    """

    def __init__(
        self,
        name: str,
        description: str = "",
        version: Optional[str] = None,
        *,
        metadata: Optional[Mapping[str, str]] = None,
        derived_from: Iterable[VersionLike] = (),
    ) -> None:
        if not version:
            raise InvalidArgument(f'a version is required, e.g. tt.Dataset(name="{name}", version="1.0.0")')
        self.name = name
        self.description = description
        self.version = version
        self.metadata: Dict[str, str] = dict(metadata or {})
        self.derived_from: List[DatasetRef] = [as_ref(v) for v in derived_from]
        self._artefacts: Dict[str, LocalArtefact] = {}
        self._tmp: Optional[str] = None

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, version={self.version!r}, artefacts={list(self._artefacts)!r})"

    @property
    def ref(self) -> DatasetRef:
        """This version's name and version."""
        return DatasetRef(self.name, self.version)

    @property
    def artefacts(self) -> List[LocalArtefact]:
        """The files added so far, in the order they were added."""
        return list(self._artefacts.values())

    def add_file(self, path: PathLike, name: Optional[str] = None, *, media_type: Optional[str] = None) -> "Dataset":
        """Adds a file of any kind (CSV, Parquet, text, binary); returns the dataset, for chaining.

        Args:
            path: The local file. It is streamed at save time, never read whole into memory.
            name: Its path inside the dataset, e.g. ``"train/part-0.csv"``; defaults to the file's name.
            media_type: Defaults to a guess from the extension (``application/octet-stream`` if unknown).

        Raises:
            FileNotFoundError: ``path`` is not a file.
            InvalidArgument: the name is not a valid artefact path, or is used already.
        """
        local = os.path.abspath(os.fspath(path))
        if not os.path.isfile(local):
            raise FileNotFoundError(f"{os.fspath(path)!r} is not a file")
        artefact_name = name if name is not None else os.path.basename(local)
        self._add(LocalArtefact(artefact_name, local, media_type or guess_media_type(artefact_name)))
        return self

    def add_dataframe(self, name: str, df: "pandas.DataFrame", *, format: str = "parquet") -> "Dataset":
        """Adds a pandas DataFrame, stored as Parquet (``"features"`` becomes ``features.parquet``).

        The DataFrame is written to a temporary file now, so later changes to it
        are not saved. Needs the SDK's pandas extra (``pip install './sdk/python[pandas]'``).

        Args:
            name: The artefact's name; the format's extension is appended unless present.
            df: The DataFrame.
            format: ``"parquet"`` (default), or ``"csv"``, ``"tsv"``, ``"json"``, ``"jsonl"``.
        """
        if format not in TABULAR:
            raise InvalidArgument(f"cannot store a DataFrame as {format!r}; use one of {', '.join(TABULAR)}")
        artefact_name = name if name.lower().endswith(f".{format}") else f"{name}.{format}"
        check_artefact_path(artefact_name)
        self._check_unused(artefact_name)
        path = os.path.join(self._tmpdir(), uuid.uuid4().hex)
        write_table(df, path, format)
        self._add(LocalArtefact(artefact_name, path, guess_media_type(artefact_name)))
        return self

    def _add(self, artefact: LocalArtefact) -> None:
        check_artefact_path(artefact.name)
        self._check_unused(artefact.name)
        self._artefacts[artefact.name] = artefact

    def _check_unused(self, name: str) -> None:
        if name in self._artefacts:
            raise InvalidArgument(f"the dataset has an artefact named {name!r} already; pass name=... to add it under another name")

    def _tmpdir(self) -> str:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="traintrack-")
            weakref.finalize(self, shutil.rmtree, self._tmp, True)
        return self._tmp


class DatasetVersion:
    """A dataset version saved on the server: immutable metadata and artefacts, read on demand.

    Attributes:
        name: The dataset's name.
        version: The version, e.g. ``"1.0.0"``.
        description: Its description.
        metadata: String key/value pairs.
        artefacts: Its files (name, size, sha256, media type, format), every one: the server sends
            a version with its first page of artefacts, and the rest are read page by page
            (ListArtefacts) the first time this is used.
        artefact_count: How many artefacts it has.
        derived_from: The versions it was derived from.
        created_at: When it was committed (UTC).
        total_size: Bytes of all its artefacts.
    """

    def __init__(self, client: "Client", dataset: dataset_pb2.DatasetVersion) -> None:
        self._client = client
        self.name: str = dataset.name
        self.version: str = dataset.version
        self.description: str = dataset.description
        self.metadata: Dict[str, str] = dict(dataset.metadata)
        self._first_page: List[Artefact] = [Artefact._from_proto(a) for a in dataset.artefacts]
        self._next_page_token: str = dataset.artefacts_next_page_token
        self._all_artefacts: Optional[List[Artefact]] = None if self._next_page_token else self._first_page
        self.artefact_count: int = dataset.artefact_count
        self.derived_from: List[DatasetRef] = [DatasetRef._from_proto(r) for r in dataset.derived_from]
        self.created_at: Optional[datetime] = to_datetime(dataset.created_at)
        self.total_size: int = dataset.total_size

    def __repr__(self) -> str:
        names = [a.name for a in self._first_page[:10]]
        more = f" and {self.artefact_count - len(names)} more" if self.artefact_count > len(names) else ""
        return f"DatasetVersion(name={self.name!r}, version={self.version!r}, artefacts={names!r}{more})"

    @property
    def artefacts(self) -> List[Artefact]:
        """Every artefact, by path; a large version's are read page by page on first use, then kept."""
        if self._all_artefacts is None:
            self._all_artefacts = self._first_page + list(self._pages(prefix="", token=self._next_page_token))
        return self._all_artefacts

    def iter_artefacts(self, prefix: str = "") -> Iterator[Artefact]:
        """The artefacts whose path starts with ``prefix``, by path, fetched a page at a time as the iterator advances."""
        if self._all_artefacts is not None:
            yield from (a for a in self._all_artefacts if a.name.startswith(prefix))
        elif not prefix:
            yield from self._first_page
            yield from self._pages(prefix="", token=self._next_page_token)
        else:
            yield from self._pages(prefix=prefix, token="")

    def _pages(self, *, prefix: str, token: str) -> Iterator[Artefact]:
        """ListArtefacts from ``token`` (a first call when empty) to the last page."""
        t = self._client._transport
        first = True
        while first or token:
            first = False
            request = dataset_pb2.ListArtefactsRequest(dataset=self.ref._to_proto(), path_prefix=prefix, page_size=_ARTEFACT_PAGE, page_token=token)
            page = t.call(t.datasets.ListArtefacts, request, what=f"ListArtefacts {self.ref}")
            yield from (Artefact._from_proto(a) for a in page.artefacts)
            token = page.next_page_token

    @property
    def ref(self) -> DatasetRef:
        """This version's name and version."""
        return DatasetRef(self.name, self.version)

    def artefact(self, name: str) -> Artefact:
        """The artefact called ``name``, or whose name is ``name`` plus an extension (``"features"`` → ``features.parquet``).

        Raises NotFound when there is none, InvalidArgument when the short name is ambiguous.
        """
        for artefact in self.artefacts:
            if artefact.name == name:
                return artefact
        matches = [a for a in self.artefacts if posixpath.splitext(a.name)[0] == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise InvalidArgument(f"{name!r} matches several artefacts of {self.ref}: {[a.name for a in matches]}; give the full name")
        raise NotFound(f"{self.ref} has no artefact {name!r}; it has {[a.name for a in self.artefacts]}")

    def open(self, name: str, mode: str = "rb", *, encoding: Optional[str] = None) -> IO[Any]:
        """Opens an artefact as a read-only stream (``"rb"``, or ``"r"`` for text), fetched as it is read.

        The stream is seekable; reading it from start to end checks its sha256 (DataLoss on a mismatch).
        Use it as a context manager to stop the download early.
        """
        if mode not in ("rb", "r"):
            raise ValueError(f"mode must be 'rb' or 'r', not {mode!r}")
        return self._reader().open(self.artefact(name), mode, encoding=encoding)

    def download(self, dir: PathLike, *, names: Optional[Iterable[str]] = None) -> List[Path]:
        """Writes artefacts (all, or those in ``names``) under ``dir`` at their paths; returns the files.

        Each file is written to a temporary name and renamed when complete and
        verified. An artefact path that would land outside ``dir`` is refused
        (InvalidArgument) before anything is written.
        """
        chosen = self.artefacts if names is None else [self.artefact(n) for n in names]
        return self._reader().download(Path(dir), chosen)

    def _download_to(self, artefact: Artefact, target: Path) -> None:
        self._reader().download_to(artefact, target)

    def _reader(self) -> ArtefactReader:
        t = self._client._transport
        ref = self.ref

        def open_at(path: str, offset: int) -> Iterator[DownloadResponse]:
            request = dataset_pb2.DownloadArtefactRequest(dataset=ref._to_proto(), path=path, offset=offset)
            return t.stream(t.download_artefact, request)

        return ArtefactReader(t, open_at, str(ref), self._client._progress)

    def to_pandas(self, name: Optional[str] = None) -> "pandas.DataFrame":
        """Loads a tabular artefact (Parquet, CSV, TSV, JSON, JSON lines) as a DataFrame.

        ``name`` may be omitted when the version has exactly one tabular artefact.
        Needs the SDK's pandas extra (``pip install './sdk/python[pandas]'``).
        """
        artefact = self._tabular(name)
        with tempfile.TemporaryDirectory(prefix="traintrack-") as tmp:
            path = Path(tmp, "artefact")
            self._download_to(artefact, path)
            return read_table(str(path), artefact.format)

    def _tabular(self, name: Optional[str]) -> Artefact:
        if name is not None:
            artefact = self.artefact(name)
            if artefact.format not in TABULAR:
                raise InvalidArgument(f"artefact {artefact.name!r} is {artefact.format!r}, not a table pandas can load ({', '.join(TABULAR)})")
            return artefact
        tables = [a for a in self.artefacts if a.format in TABULAR]
        if len(tables) != 1:
            raise InvalidArgument(f"{self.ref} has {len(tables)} tabular artefacts; name the one to load: {[a.name for a in tables]}")
        return tables[0]

    def transform(
        self,
        fn: Callable[["pandas.DataFrame"], "pandas.DataFrame"],
        *,
        version: str,
        name: Optional[str] = None,
        description: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
        artefacts: Optional[Sequence[str]] = None,
    ) -> "DatasetVersion":
        """Derives and saves a new version by applying ``fn`` to this version's tables.

        ``fn`` receives each tabular artefact (or those named in ``artefacts``) as a
        DataFrame and returns the new one, stored under the same name and format.
        Other artefacts are carried over unchanged. The new version's lineage
        points to this one.

        Args:
            fn: DataFrame → DataFrame, e.g. ``lambda df: df.dropna()``.
            version: The new version, e.g. ``"1.0.1"``.
            name: The new version's dataset; defaults to this one's.
            description: Defaults to this version's description.
            metadata: Defaults to this version's metadata.
            artefacts: The tables to transform; default: all tabular artefacts.

        Returns:
            The saved version (saving is idempotent, as with ``client.datasets.save``).
        """
        chosen = {self.artefact(n).name for n in artefacts} if artefacts is not None else {a.name for a in self.artefacts if a.format in TABULAR}
        derived = Dataset(
            name=name or self.name,
            description=self.description if description is None else description,
            version=version,
            metadata=self.metadata if metadata is None else metadata,
            derived_from=[self.ref],
        )
        with tempfile.TemporaryDirectory(prefix="traintrack-") as tmp:
            for index, artefact in enumerate(self.artefacts):
                source = os.path.join(tmp, str(index))
                self._download_to(artefact, Path(source))
                if artefact.name in chosen:
                    result = fn(read_table(source, artefact.format))
                    if result is None:
                        raise InvalidArgument(f"the transform returned None for {artefact.name!r}; it must return a DataFrame")
                    write_table(result, source, artefact.format)
                derived.add_file(source, name=artefact.name, media_type=artefact.media_type)
            return self._client.datasets.save(derived)

    def lineage(self, *, depth: int = 0, max_nodes: int = 0) -> Lineage:
        """This version's ancestors and descendants; same as ``client.datasets.lineage(self)``."""
        return self._client.datasets.lineage(self, depth=depth, max_nodes=max_nodes)

    def _same_content(self, dataset: Dataset, hashes: Mapping[str, Tuple[int, str]]) -> List[str]:
        """What differs between this saved version and a local one (empty: identical)."""
        differs = []
        if self.description != dataset.description:
            differs.append("description")
        if self.metadata != dataset.metadata:
            differs.append("metadata")
        if set(self.derived_from) != set(dataset.derived_from):
            differs.append("derived_from")
        mine = {a.name: (a.size, a.sha256, a.media_type) for a in self.artefacts}
        theirs = {a.name: (*hashes[a.name], a.media_type) for a in dataset.artefacts}
        if mine != theirs:
            changed = sorted(set(mine) ^ set(theirs) | {n for n in set(mine) & set(theirs) if mine[n] != theirs[n]})
            differs.append(f"artefacts ({', '.join(changed)})")
        return differs
