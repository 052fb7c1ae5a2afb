"""Plain, immutable values of ``client.models``: registered models, aliases and their history, and signatures.

Version numbers that the wire spells 0 for "none" (an alias that did not exist
before a move, or was deleted by it) are None here, so that ``if move.from_version``
and printing read as people mean them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from ._gen.v1 import model_pb2
from ._models import to_datetime
from .errors import InvalidArgument

if TYPE_CHECKING:
    from .runs import Run, RunInfo

#: A model version's signature as the SDK takes it: a JSON-serialisable value (usually a dict), or JSON text.
SignatureLike = Union[Mapping[str, Any], List[Any], str, None]


def signature_text(signature: SignatureLike) -> str:
    """The signature as the JSON text the server stores; InvalidArgument for text that is not JSON or a value that cannot be."""
    if signature is None:
        return ""
    if isinstance(signature, str):
        try:
            json.loads(signature)
        except ValueError as error:
            raise InvalidArgument(f"signature {signature[:80]!r} is not JSON text ({error}); pass a dict to have it serialised") from None
        return signature
    try:
        return json.dumps(signature, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidArgument(f"signature cannot be sent as JSON: {error}") from None


def parse_signature(text: str) -> Any:
    """The stored signature parsed: a dict (usually), None when there is none, the text itself when it is not JSON."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # written by a client that did not check it: better shown than lost


def _version(number: int) -> Optional[int]:
    return number or None


@dataclass(frozen=True)
class ModelRef:
    """One version of a model by name, e.g. ``ModelRef("churn-xgb", 3)``; printed ``churn-xgb@3``."""

    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class ModelAlias:
    """An alias (``production``, ``champion`` …) of a model, the version it points to, and whether it is protected."""

    alias: str
    version: int
    protected: bool
    updated_at: Optional[datetime]

    @classmethod
    def _from_proto(cls, a: model_pb2.ModelAlias) -> ModelAlias:
        return cls(a.alias, a.version, a.protected, to_datetime(a.updated_at))


@dataclass(frozen=True)
class AliasChange:
    """What ``client.models.set_alias`` did: the alias as it is now, and the version it pointed to before (None: it is new)."""

    alias: ModelAlias
    previous_version: Optional[int]


@dataclass(frozen=True)
class RegisteredModel:
    """A model of the registry: its name, project, description, tags, latest version (0: none yet) and aliases."""

    name: str
    project: str
    description: str
    tags: Dict[str, str]
    latest_version: int
    aliases: Tuple[ModelAlias, ...]
    created_at: Optional[datetime]
    updated_at: Optional[datetime]

    def alias(self, name: str) -> Optional[ModelAlias]:
        """The alias called ``name``, or None."""
        return next((a for a in self.aliases if a.alias == name), None)

    @classmethod
    def _from_proto(cls, m: model_pb2.RegisteredModel) -> RegisteredModel:
        return cls(
            name=m.name,
            project=m.project,
            description=m.description,
            tags=dict(m.tags),
            latest_version=m.latest_version,
            aliases=tuple(ModelAlias._from_proto(a) for a in m.aliases),
            created_at=to_datetime(m.created_at),
            updated_at=to_datetime(m.updated_at),
        )


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias, as its history keeps it.

    Attributes:
        alias: The alias moved.
        from_version: The version it pointed to before; None when the move created it.
        to_version: The version it points to after; None when the move deleted it.
        user_id, key_id: Who moved it: the user (or service account) and the API key.
        reason: Why, as given to ``set_alias`` or ``delete_alias``.
        time: When (UTC).
    """

    alias: str
    from_version: Optional[int]
    to_version: Optional[int]
    user_id: str
    key_id: str
    reason: str
    time: Optional[datetime]

    @classmethod
    def _from_proto(cls, m: model_pb2.AliasMove) -> AliasMove:
        return cls(m.alias, _version(m.from_version), _version(m.to_version), m.user_id, m.key_id, m.reason, to_datetime(m.time))


@dataclass(frozen=True)
class AliasHistory:
    """What ``client.models.alias_history`` returns: every move, newest first, and with ``at`` the version then.

    Iterating it (or ``len``, indexing) goes over ``moves``.

    Attributes:
        model: The model.
        alias: The alias asked for, or None for every alias of the model.
        moves: The moves, newest first.
        at: The time asked about, or None.
        version_at: With ``at``: the version the alias pointed to at that time, None if it
            pointed to none (it did not exist yet, or was deleted). Always None without ``at``.
    """

    model: str
    alias: Optional[str]
    moves: Tuple[AliasMove, ...] = ()
    at: Optional[datetime] = None
    version_at: Optional[int] = None

    def __iter__(self) -> Iterator[AliasMove]:
        return iter(self.moves)

    def __len__(self) -> int:
        return len(self.moves)

    def __getitem__(self, index: int) -> AliasMove:
        return self.moves[index]


@dataclass(frozen=True)
class RunArtefacts:
    """A run's artefacts under a path prefix, to register as a model version without copying a byte.

    Example::

        client.models.register("churn-xgb", tt.RunArtefacts(run, "model/"))   # or a run id

    Each artefact whose path starts with ``prefix`` becomes a file of the version at its
    path with the prefix cut off (``model/weights.bin`` → ``weights.bin``). An empty prefix
    takes every artefact of the run.
    """

    run_id: str
    prefix: str = ""

    def __init__(self, run: Union[str, "Run", "RunInfo"], prefix: str = "") -> None:
        run_id = run if isinstance(run, str) else getattr(run, "run_id", None) or getattr(run, "id", None)
        if not isinstance(run_id, str) or not run_id:
            raise InvalidArgument(f"{run!r} is not a run: pass a Run, a RunInfo or a run id")
        object.__setattr__(self, "run_id", run_id)
        object.__setattr__(self, "prefix", prefix)

    def _to_proto(self) -> model_pb2.RunArtefactFiles:
        return model_pb2.RunArtefactFiles(run_id=self.run_id, path_prefix=self.prefix)

