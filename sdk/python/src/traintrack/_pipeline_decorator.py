"""``@tt.step``: plain functions as pipeline steps, their dependencies taken from the data passed between them.

Example::

    @tt.step
    def extract(day): return load(day)

    @tt.step(cache_key=True, run=True)
    def train(rows, lr=0.1): ...

    with pipe.run() as prun:
        rows = extract("2026-11-29")
        parts = [score(rows, shard=i) for i in range(10)]   # one step "score", instances 0…9
        train(parts)                                        # after extract? no: after score

How dependencies are found: a call's return value is remembered (with the step that made it)
by identity for the pipeline run's lifetime, as are the items of a returned tuple (``a, b =
split(x)`` works) other than the call's own arguments passed back. A later call whose arguments,
or the items of an argument that is a list, tuple, set or dict (its values), are one of those
objects comes after that step. Only what a step returned counts, never what is inside it: a
dict returned by one step may hold strings that came from another. Values are passed through
untouched; nothing is wrapped. Objects Python shares wherever they come
from are not tracked: None, booleans and the small integers -5…256 (return something else,
or pass ``after=``). Strings and other numbers made at run time are distinct objects, but a
literal that Python interns (a short constant string) returned by one step and written again
elsewhere is the same object: return data, not flags.

Outside a ``with pipe.run()`` block a decorated function is a plain function: nothing is recorded.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import pickle
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Tuple, TypeVar, Union, overload

from ._pipeline_run import ENV_STEP_ID, PipelineRun, current_pipeline_run
from ._pipeline_step import PipelineStep, StepRunOption, current_step_in_context
from .errors import FailedPrecondition

if TYPE_CHECKING:
    from .client import Client

F = TypeVar("F", bound=Callable[..., Any])
#: ``cache_key=`` of ``@tt.step``: True (hash the function's source and arguments), a key, or a function of the arguments.
CacheKeyOption = Union[bool, str, Callable[..., str], None]


@dataclass(frozen=True)
class CachedStep:
    """What a cached ``@tt.step`` call returns instead of running: its step, and the instance whose result it reuses.

    Downstream steps that take it still come after it.
    """

    step: str
    instance: int
    step_id: str
    cached_from: Optional[str]


class _Tracked:
    """A pipeline run's memory of which step made which object, and how many times each step was called."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.made_by: Dict[int, Tuple[Any, str]] = {}  # id → (the object, kept alive so the id is not reused; its step)
        self.calls: Dict[str, int] = {}

    def remember(self, value: Any, step: str, args: Iterable[Any]) -> None:
        passed = {id(a) for a in args}
        items = [value] + [item for item in value if id(item) not in passed] if isinstance(value, tuple) else [value]
        with self.lock:
            for item in items:
                if _trackable(item):
                    self.made_by[id(item)] = (item, step)

    def upstream_of(self, args: Iterable[Any]) -> List[str]:
        found: List[str] = []
        with self.lock:
            for arg in args:
                for item in _with_items(arg):
                    entry = self.made_by.get(id(item))
                    if entry is not None and entry[0] is item and entry[1] not in found:
                        found.append(entry[1])
        return found

    def next_instance(self, step: str) -> int:
        with self.lock:
            n = self.calls.get(step, 0)
            self.calls[step] = n + 1
            return n


_tracked: "weakref.WeakKeyDictionary[PipelineRun, _Tracked]" = weakref.WeakKeyDictionary()
_tracked_lock = threading.Lock()


def _state(prun: PipelineRun) -> _Tracked:
    with _tracked_lock:
        return _tracked.setdefault(prun, _Tracked())


def _with_items(value: Any) -> List[Any]:
    """The value and, one level down, the items of a tuple, list, set or the values of a dict."""
    if isinstance(value, dict):
        return [value, *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [value, *value]
    return [value]


def _trackable(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    return not (type(value) is int and -5 <= value <= 256)


def source_hash(fn: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> str:
    """sha256 of the function's module, name and source (its bytecode when the source is unavailable) and its pickled arguments
    (their repr when they cannot be pickled: a repr showing an address never matches, so such a step is never cached)."""
    hasher = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__}\n".encode())
    try:
        hasher.update(inspect.getsource(fn).encode())
    except (OSError, TypeError):
        hasher.update(fn.__code__.co_code)
    for value in (args, sorted(kwargs.items())):
        try:
            hasher.update(pickle.dumps(value, protocol=4))
        except Exception:
            hasher.update(repr(value).encode())
    return hasher.hexdigest()


@overload
def step(fn: F) -> F: ...
@overload
def step(*, name: Optional[str] = None, after: Iterable[str] = (), cache_key: CacheKeyOption = None, run: StepRunOption = False) -> Callable[[F], F]: ...
def step(
    fn: Optional[F] = None, *, name: Optional[str] = None, after: Iterable[str] = (), cache_key: CacheKeyOption = None, run: StepRunOption = False
) -> Union[F, Callable[[F], F]]:
    """Records each call of the function, inside ``with pipe.run()``, as a step of that pipeline run (see the module).

    Args:
        name: The step's name; default the function's name. Calls after the first are instances 1, 2 … (a fan-out).
        after: Steps it always comes after, besides those its arguments come from.
        cache_key: True hashes the function's source and arguments (tt.source_hash); a string is the key;
            a function gets the call's arguments and returns the key. When an earlier succeeded instance of
            the pipeline had the key, the function is NOT called and the call returns a tt.CachedStep.
        run: True makes each call also a Traintrack run (``tt.current_step().run`` inside).

    Inside, ``tt.current_step()`` is the call's step (record inputs and outputs on it).
    """

    def decorate(function: F) -> F:
        step_name = name or function.__name__
        fixed_after = list(after)

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            prun = current_pipeline_run()
            if prun is None:
                return function(*args, **kwargs)
            tracked = _state(prun)
            upstream = fixed_after + [s for s in tracked.upstream_of([*args, *kwargs.values()]) if s not in fixed_after]
            key = _key(cache_key, function, args, kwargs)
            with prun.step(step_name, after=upstream, cache_key=key, run=run, instance=tracked.next_instance(step_name)) as s:
                result = CachedStep(step_name, s.instance, s.id or "", s.cached_from) if s.cached else function(*args, **kwargs)
            tracked.remember(result, step_name, [*args, *kwargs.values()])
            return result

        return call  # type: ignore[return-value]  # same signature as the function

    return decorate(fn) if fn is not None else decorate


def _key(option: CacheKeyOption, fn: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[str]:
    if option is None or option is False:
        return None
    if option is True:
        return source_hash(fn, args, kwargs)
    if isinstance(option, str):
        return option
    return str(option(*args, **kwargs))


_env_client: Optional["Client"] = None


def current_step(client: Optional["Client"] = None) -> PipelineStep:
    """The step of the innermost ``with prun.step()`` or ``@tt.step`` call; else, in a child process, the step whose id
    TRAINTRACK_STEP_ID holds (``s.env()``), read with ``client`` or a client from TRAINTRACK_URL and TRAINTRACK_API_KEY.

    FailedPrecondition when there is none.
    """
    global _env_client
    found = current_step_in_context()
    if found is not None:
        return found
    if client is None:
        if not os.environ.get(ENV_STEP_ID):
            raise FailedPrecondition(f"no current step: use it inside 'with prun.step()' or a @tt.step function, or set {ENV_STEP_ID} (s.env())")
        if _env_client is None:
            from .client import Client

            _env_client = Client()
        client = _env_client
    return client.pipelines.current_step()
