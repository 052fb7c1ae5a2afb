"""Plain, immutable values the SDK returns: artefacts, references, summaries, lineage graphs."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional, Tuple

from google.protobuf.timestamp_pb2 import Timestamp

from ._gen.v1 import dataset_pb2

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"

# Short format names for the media types the SDK writes or pandas reads.
_FORMATS: Dict[str, str] = {
    PARQUET_MEDIA_TYPE: "parquet",
    "application/x-parquet": "parquet",
    "parquet": "parquet",
    "text/csv": "csv",
    "csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "text/plain": "text",
    "application/octet-stream": "binary",
}


def format_of(path: str, media_type: str) -> str:
    """A short format name ("csv", "parquet", ...) from the media type, else the file extension."""
    known = _FORMATS.get(media_type.split(";")[0].strip().lower())
    if known and known != "binary":
        return known
    extension = posixpath.splitext(path)[1].lstrip(".").lower()
    return extension or known or "binary"


def to_datetime(ts: Timestamp) -> Optional[datetime]:
    """A timezone-aware UTC datetime, or None for an unset timestamp."""
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToDatetime(tzinfo=timezone.utc)


@dataclass(frozen=True)
class DatasetRef:
    """One version of a dataset by name, e.g. ``DatasetRef("customer_churn", "1.0.0")``."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def _from_proto(cls, ref: dataset_pb2.DatasetVersionRef) -> DatasetRef:
        return cls(ref.name, ref.version)

    def _to_proto(self) -> dataset_pb2.DatasetVersionRef:
        return dataset_pb2.DatasetVersionRef(name=self.name, version=self.version)


@dataclass(frozen=True)
class Artefact:
    """A file of a saved dataset version, or of a run.

    Attributes:
        name: Its path inside the dataset (or run), e.g. ``"churn.csv"`` or ``"train/part-0.parquet"``.
        size: Size in bytes.
        sha256: Lowercase hex sha256 of its bytes, computed by the server.
        media_type: Media type given at upload, e.g. ``"text/csv"``.
    """

    name: str
    size: int
    sha256: str
    media_type: str

    @property
    def format(self) -> str:
        """Short format name: ``"csv"``, ``"parquet"``, ``"json"``, ``"text"``, a file extension, or ``"binary"``."""
        return format_of(self.name, self.media_type)

    @classmethod
    def _from_proto(cls, a: dataset_pb2.Artefact) -> Artefact:
        return cls(name=a.path, size=a.size, sha256=a.sha256, media_type=a.media_type)


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset as listed by ``client.datasets.list()``: its name and latest version."""

    name: str
    latest_version: str
    version_count: int
    description: str
    created_at: Optional[datetime]
    updated_at: Optional[datetime]

    @classmethod
    def _from_proto(cls, s: dataset_pb2.DatasetSummary) -> DatasetSummary:
        return cls(
            name=s.name,
            latest_version=s.latest_version,
            version_count=s.version_count,
            description=s.description,
            created_at=to_datetime(s.created_at),
            updated_at=to_datetime(s.updated_at),
        )


@dataclass(frozen=True)
class LineageEdge:
    """``parent`` was derived into ``child``."""

    parent: DatasetRef
    child: DatasetRef


@dataclass(frozen=True)
class Lineage:
    """The lineage graph around one version: every ancestor and descendant, and the edges between them.

    Attributes:
        root: The version the graph was asked for.
        nodes: Every version in the graph, ``root`` included, with its creation time.
        edges: Parent → child derivations.
        truncated: True when the graph goes on past what the server returned (``max_nodes``
            versions or 50,000 edges): the versions kept are those nearest ``root``.
    """

    root: DatasetRef
    nodes: Dict[DatasetRef, Optional[datetime]] = field(default_factory=dict)
    edges: Tuple[LineageEdge, ...] = ()
    truncated: bool = False

    @property
    def parents(self) -> List[DatasetRef]:
        """The versions ``root`` was derived from directly."""
        return sorted({e.parent for e in self.edges if e.child == self.root}, key=str)

    @property
    def children(self) -> List[DatasetRef]:
        """The versions derived from ``root`` directly."""
        return sorted({e.child for e in self.edges if e.parent == self.root}, key=str)

    @property
    def ancestors(self) -> List[DatasetRef]:
        """Every version ``root`` derives from, nearest first."""
        return self._walk(lambda e: e.child, lambda e: e.parent)

    @property
    def descendants(self) -> List[DatasetRef]:
        """Every version derived from ``root``, nearest first."""
        return self._walk(lambda e: e.parent, lambda e: e.child)

    def _walk(self, source: Callable[[LineageEdge], DatasetRef], target: Callable[[LineageEdge], DatasetRef]) -> List[DatasetRef]:
        seen: List[DatasetRef] = []
        frontier = [self.root]
        while frontier:
            step = sorted({target(e) for e in self.edges if source(e) in frontier} - set(seen) - {self.root}, key=str)
            seen.extend(step)
            frontier = step
        return seen

    @classmethod
    def _from_proto(cls, root: DatasetRef, response: dataset_pb2.GetLineageResponse) -> Lineage:
        return cls(
            root=root,
            nodes={DatasetRef._from_proto(n.dataset): to_datetime(n.created_at) for n in response.nodes},
            edges=tuple(LineageEdge(DatasetRef._from_proto(e.parent), DatasetRef._from_proto(e.child)) for e in response.edges),
            truncated=response.truncated,
        )
