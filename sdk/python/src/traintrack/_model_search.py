"""The small ``where`` language of ``client.models.search``, and its ``order_by``.

``where`` is conditions joined by ``and``, each one of::

    metrics.KEY  <, <=, > or >=  NUMBER      the run's latest value of metric KEY
    params.KEY   =  VALUE                     the run's param KEY (params are strings)
    tags.KEY     =  VALUE                     the version's tag KEY
    framework    =  VALUE
    alias        =  VALUE                     only the version this alias points to

e.g. ``metrics.auc > 0.9 and params.max_depth = 6 and tags.stage = prod``. A
VALUE is a bare word or a quoted string ('a b' or "a b"); a KEY with spaces is
quoted too: ``metrics."val loss" < 0.3``. It is exactly what
SearchModelVersionsRequest can ask, no more: ``or``, ``not``, parentheses,
``!=``, and equality on a metric are refused with InvalidArgument rather than
approximated, since a search that silently matched something else would be
worse than none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ._gen.v1 import experiment_pb2
from .errors import InvalidArgument

#: The most metric conditions one search takes (the server's limit).
MAX_METRIC_CONDITIONS = 20

_METRIC_OPS: Dict[str, "experiment_pb2.MetricThreshold.Op"] = {
    "<": experiment_pb2.MetricThreshold.OP_LESS,
    "<=": experiment_pb2.MetricThreshold.OP_LESS_OR_EQUAL,
    ">": experiment_pb2.MetricThreshold.OP_GREATER,
    ">=": experiment_pb2.MetricThreshold.OP_GREATER_OR_EQUAL,
}
_FIELDS = "metrics.KEY, params.KEY, tags.KEY, framework or alias"
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op><=|>=|==|!=|<>|<|>|=)
      | (?P<paren>[()])
      | (?P<word>[^\s'"<>=!()]+)
    )""",
    re.VERBOSE,
)


@dataclass
class SearchFilter:
    """What a ``where`` asks, in the request's terms."""

    metrics: List[Tuple[str, str, float]] = field(default_factory=list)
    params: Dict[str, str] = field(default_factory=dict)
    tags: Dict[str, str] = field(default_factory=dict)
    framework: str = ""
    alias: str = ""

    def thresholds(self) -> List[experiment_pb2.MetricThreshold]:
        return [experiment_pb2.MetricThreshold(key=k, op=_METRIC_OPS[op], value=v) for k, op, v in self.metrics]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _tokens(where: str) -> List[Tuple[str, str]]:
    """(kind, text) pairs; a quoted string's text is unquoted."""
    tokens: List[Tuple[str, str]] = []
    at = 0
    while at < len(where):
        if not where[at:].strip():
            break
        match = _TOKEN.match(where, at)
        if match is None or match.lastgroup is None:
            raise InvalidArgument(f"where {where!r}: cannot read {where[at:].strip()[:20]!r} (an unclosed quote?)")
        kind, text = match.lastgroup, match.group(match.lastgroup)
        tokens.append((kind, _unquote(text) if kind == "string" else text))
        at = match.end()
    return tokens


def _conditions(where: str) -> List[List[Tuple[str, str]]]:
    """The tokens of each condition, split at ``and``; the refusals of what the request cannot ask."""
    conditions: List[List[Tuple[str, str]]] = [[]]
    for kind, text in _tokens(where):
        lowered = text.lower() if kind == "word" else ""
        if kind == "paren" or lowered in ("or", "not"):
            raise InvalidArgument(
                f"where {where!r}: {text!r} is not supported; a search is conditions joined by 'and' "
                "(run one search per alternative for 'or')"
            )
        if lowered == "and":
            conditions.append([])
        else:
            conditions[-1].append((kind, text))
    return conditions


def _condition(where: str, tokens: List[Tuple[str, str]]) -> Tuple[str, str, str]:
    """(field, op, value) of one condition; a quoted key (``metrics."val loss"``) is joined to its field."""
    if len(tokens) >= 2 and tokens[0][0] == "word" and tokens[0][1].endswith(".") and tokens[1][0] == "string":
        tokens = [("word", tokens[0][1] + tokens[1][1])] + tokens[2:]
    shown = " ".join(text for _, text in tokens)
    if not tokens:
        raise InvalidArgument(f"where {where!r}: an empty condition (a stray 'and'?)")
    if len(tokens) != 3 or tokens[0][0] != "word" or tokens[1][0] != "op" or tokens[2][0] not in ("word", "string"):
        raise InvalidArgument(f"where {where!r}: {shown!r} is not a condition; write FIELD OP VALUE, FIELD one of {_FIELDS}")
    return tokens[0][1], tokens[1][1], tokens[2][1]


def _set_once(where: str, into: Dict[str, str], key: str, value: str, what: str) -> None:
    if into.get(key, value) != value:
        raise InvalidArgument(f"where {where!r}: {what} {key!r} cannot equal both {into[key]!r} and {value!r}")
    into[key] = value


def parse_where(where: str) -> SearchFilter:
    """The filter ``where`` describes; InvalidArgument saying what it cannot express."""
    found = SearchFilter()
    if not where.strip():
        return found
    singles: Dict[str, str] = {}
    for tokens in _conditions(where):
        name, op, value = _condition(where, tokens)
        scope, dot, key = name.partition(".")
        if dot and scope == "metrics" and key:
            if op not in _METRIC_OPS:
                raise InvalidArgument(f"where {where!r}: metric {key!r} is compared with <, <=, > or >=, not {op!r}")
            try:
                number = float(value)
            except ValueError:
                raise InvalidArgument(f"where {where!r}: metric {key!r} is compared with a number, not {value!r}") from None
            if math.isnan(number):
                raise InvalidArgument(f"where {where!r}: metric {key!r} cannot be compared with NaN")
            found.metrics.append((key, op, number))
            continue
        keyed = bool(dot and scope in ("params", "tags") and key)
        if not keyed and name not in ("framework", "alias"):
            raise InvalidArgument(f"where {where!r}: unknown field {name!r}; use {_FIELDS}")
        if op not in ("=", "=="):
            raise InvalidArgument(f"where {where!r}: {name} can only be compared with '=', not {op!r}")
        if keyed:
            _set_once(where, found.params if scope == "params" else found.tags, key, value, scope[:-1])
        else:
            _set_once(where, singles, name, value, "field")
    if len(found.metrics) > MAX_METRIC_CONDITIONS:
        raise InvalidArgument(f"where {where!r}: {len(found.metrics)} metric conditions; a search takes at most {MAX_METRIC_CONDITIONS}")
    found.framework = singles.get("framework", "")
    found.alias = singles.get("alias", "")
    return found


def parse_order_by(order_by: Optional[str]) -> Tuple[str, bool]:
    """(metric key, descending) from ``"-metrics.auc"``, ``"metrics.auc"`` or ``"metrics.auc desc"``; ``("", False)``: newest first."""
    text = (order_by or "").strip()
    if not text:
        return "", False
    descending = text.startswith("-")
    text = text.lstrip("-+").strip()
    words = text.rsplit(None, 1)
    if len(words) == 2 and words[1].lower() in ("asc", "desc"):
        descending, text = words[1].lower() == "desc", words[0]
    scope, dot, key = text.partition(".")
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
        key = _unquote(key)
    if scope != "metrics" or not dot or not key:
        raise InvalidArgument(
            f"order_by {order_by!r}: versions are sorted by a metric of their run, e.g. \"-metrics.auc\" "
            "(highest first) or \"metrics.loss\"; leave it empty for newest first"
        )
    return key, descending
