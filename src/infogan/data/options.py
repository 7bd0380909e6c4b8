"""Dataset options: typed keyword arguments of a loader, also written inline as ``NAME:key=value,key=value``.

The inline form lets a config's `data.name` (and `--data`) carry options such as
``folder:size=64,channels=1`` without a config field per option.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Literal

from infogan.errors import DataError


@dataclass(frozen=True)
class Options:
    """Options every dataset takes."""

    n: int = 0  # keep a fixed random subset of n images (0: all), e.g. for quick tests

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError(f"n must be >= 0, got {self.n}")


def split_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``"folder:size=64,channels=1"`` -> ``("folder", {"size": "64", "channels": "1"})``."""
    name, _, rest = spec.partition(":")
    options: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise DataError(f"dataset option {item!r} in {spec!r} is not key=value; write e.g. {name}:n=1000")
        options[key.strip()] = value.strip()
    return name.strip(), options


def _coerce(kind: Any, value: Any) -> Any:
    """Turn `value` (a string from a spec, or a Python value) into `kind`, or raise ValueError."""
    if typing.get_origin(kind) is Literal:
        allowed = typing.get_args(kind)
        for choice in allowed:
            if value == choice or (isinstance(value, str) and value == str(choice)):
                return choice
        raise ValueError(f"must be one of {', '.join(map(str, allowed))}, got {value!r}")
    if kind is not int:
        raise TypeError(f"option type {kind} is not supported")  # a loader declared a type not handled here
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise ValueError(f"must be an integer, got {value!r}")


O = typing.TypeVar("O", bound=Options)


def build_options(cls: type[O], dataset: str, given: dict[str, Any]) -> O:
    """Build `cls` from `given` (strings or values), naming the dataset and key in any error."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise DataError(f"dataset {dataset!r} has no option {unknown[0]!r}; its options are: {', '.join(names)}")
    kwargs = {}
    for key, value in given.items():
        try:
            kwargs[key] = _coerce(hints[key], value)
        except ValueError as e:
            raise DataError(f"dataset option {dataset}:{key} {e}") from None
    try:
        return cls(**kwargs)
    except ValueError as e:  # a range check in __post_init__, which names the option
        raise DataError(f"dataset option {dataset}:{e}") from None
