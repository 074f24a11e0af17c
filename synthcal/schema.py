"""The configuration's schema (``synthcal/schemas/config.schema.yaml``): its defaults, the quantization protocols
that fill the keys left null, one message per mistake, and settings built from defaults alone.

:mod:`synthcal.config` validates a configuration against it; :func:`default_settings` builds a settings object
(:mod:`synthcal.settings`) as a configuration of only defaults plans it, for tools and tests.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

import jsonschema
import yaml
from jsonschema import validators

from synthcal.settings import from_params


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and what is expected."""


def schema() -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of the workflow config (a fresh copy: callers may change it)."""
    return copy.deepcopy(_schema())


@functools.lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    """The schema file, with the keys a quantization variant may set derived from the sections it changes: each
    key of ``quantization.default`` and ``quantization.accuracy_aware``, as the schema states it but without a
    default (a variant sets only what it changes; the rest is the built-in algorithm's)."""
    text = resources.files("synthcal").joinpath("schemas/config.schema.yaml").read_text()
    tree = yaml.safe_load(text)
    quantization = tree["properties"]["quantization"]["properties"]
    variant = quantization["variants"]["additionalProperties"]["properties"]
    for section in VARIANT_SECTIONS:
        for key, node in quantization[section]["properties"].items():
            if key in GLOBAL_KEYS:
                continue
            variant.setdefault(key, {k: v for k, v in node.items() if k != "default"})
    return tree


#: The sections of ``quantization`` whose keys a variant may change (in this order: a key of both is the first's).
VARIANT_SECTIONS = ("default", "accuracy_aware", "brevitas")
#: Keys of those sections that shape what every algorithm shares (the held-out real split): not a variant's.
GLOBAL_KEYS = ("holdout_per_class",)


def section_defaults(path: str) -> dict[str, Any]:
    """The schema's default of every key of a config section (a dotted path such as ``teacher.trained``; a catalogue
    entry's keys as ``models.<name>``): what a tool or a test builds settings from without a config file."""
    node = schema()
    for part in path.split("."):
        node = node["additionalProperties"] if part == "<name>" else node["properties"][part]
    return {k: copy.deepcopy(v["default"]) for k, v in node.get("properties", {}).items() if "default" in v}


def schema_default(path: str) -> Any:
    """The schema's default of one dotted key (``quantization.batch_size``, ``seed``)."""
    section, _, key = path.rpartition(".")
    node = schema()
    for part in filter(None, section.split(".")):
        node = node["additionalProperties"] if part == "<name>" else node["properties"][part]
    return copy.deepcopy(node["properties"][key]["default"])


def default_settings(cls: type, *, protocol: str | None = None, **overrides: Any) -> Any:
    """A settings object of ``cls`` (:mod:`synthcal.settings`) as a config of only defaults plans it: its first
    section's defaults (a quantization section's with the values of ``protocol``, default the schema's, filled in as
    :func:`resolve_protocol` fills them), its derived fields' defaults (a null seed: the top-level seed), then
    ``overrides``. What a tool or a test builds settings from without a config file."""
    names = {f.name for f in dataclasses.fields(cls)}
    section = cls.SECTIONS[0]
    values = section_defaults(section)
    if section.partition(".")[2] in PROTOCOLS["pot"]:  # the sections a protocol fills
        quantization = {"protocol": protocol or schema_default("quantization.protocol"),
                        **{name: section_defaults(f"quantization.{name}") for name in PROTOCOLS["pot"]}}
        values = resolve_protocol({"quantization": quantization})["quantization"][section.partition(".")[2]]
    values = {k: v for k, v in values.items() if k in names}
    values.update({field: schema_default(path) for field, path in getattr(cls, "DERIVED", {}).items()})
    if values.get("seed", 0) is None:
        values["seed"] = schema_default("seed")
    values.update(overrides)
    return from_params(cls, values)


def _with_defaults(cls: type) -> type:
    validate_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator: Any, properties: Mapping[str, Any], instance: Any, sch: Any) -> Iterator[Any]:
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, sch)

    return validators.extend(cls, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _key(path: Any) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def suggestion(value: Any, choices: Iterable[Any]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``value`` (difflib), or ``""`` when none is close."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _accepted(schema_node: Mapping[str, Any]) -> str:
    """What a schema node accepts, in words: its description's first sentence."""
    text = " ".join(str(schema_node.get("description", "")).split())
    return text.split(". ")[0].rstrip(".") if text else ""


def _message(error: jsonschema.ValidationError) -> str:
    """One message for a schema error: the key, the bad value, the accepted form and the fix."""
    key = _key(error.absolute_path)
    value, node = error.instance, error.schema
    accepted = _accepted(node)
    what = f" ({accepted})" if accepted else ""
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        prefix = f"{key}." if error.absolute_path else ""
        names = ", ".join(f"'{prefix}{e}'{suggestion(e, allowed)}" for e in extra)
        hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return f"unknown config key {names}{hint}: remove it or correct its name"
    if error.validator == "type":
        want = error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
        return f"config key '{key}' must be of type {want}, got {value!r}{what}"
    if error.validator == "enum":
        choices = ", ".join("null" if c is None else str(c) for c in error.validator_value)
        return (f"config key '{key}': {value!r} is not one of the choices {choices}"
                f"{suggestion(value, error.validator_value)}")
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "above",
                 "exclusiveMaximum": "below"}[error.validator]
        return f"config key '{key}': {value!r} is out of range: it must be {bound} {error.validator_value}{what}"
    if error.validator == "pattern":
        return f"config key '{key}': {value!r} is not of the accepted form{what or ' ' + error.validator_value}"
    if error.validator == "not" and "enum" in error.validator_value:
        reserved = ", ".join(error.validator_value["enum"])
        return f"config key '{key}': {value!r} is a reserved name (reserved: {reserved}); choose another name"
    if error.validator == "oneOf" and error.context:
        inner = min(error.context, key=lambda e: len(list(e.absolute_path)))
        return f"config key '{key}': {inner.message}{what}"
    return f"config key '{key}': {error.message}{what}"


def check_schema(config: dict[str, Any]) -> dict[str, Any]:
    """Fill the schema's defaults into ``config`` (in place) and check it against the schema; returns ``config``.

    Raises:
        ConfigError: one message naming the shallowest offending key (an unknown top-level key explains more than
            its consequences).
    """
    errors = sorted(_Validator(schema()).iter_errors(config),
                    key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        raise ConfigError(_message(errors[0]))
    return config


#: What each quantization protocol sets (``quantization.protocol``); a key set in the config wins.
#: ``pot`` follows the paper's POT runs: DefaultQuantization's range estimator (the smallest per-image minimum, the
#: mean per-image absolute maximum), ActivationChannelAlignment on, every calibration image (POT's API mode used the
#: whole loader), and AccuracyAwareQuantization's ranking on min(len, 300) items with the authors' 2-point
#: maximal drop. ``nncf`` is NNCF's own defaults: mean per-image minimum and maximum, no channel alignment, 300
#: images, ranking on ``subset_size`` items, a 1-point maximal drop.
PROTOCOLS: dict[str, dict[str, dict[str, Any]]] = {
    "pot": {"default": {"subset_size": "all", "range_estimator": "pot", "channel_alignment": True},
            "accuracy_aware": {"max_drop": 0.02, "ranking_subset_size": 300}},
    "nncf": {"default": {"subset_size": 300, "range_estimator": "mean_minmax", "channel_alignment": False},
             "accuracy_aware": {"max_drop": 0.01, "ranking_subset_size": None}},
}


def resolve_protocol(config: dict[str, Any]) -> dict[str, Any]:
    """Fill the quantization keys left null with the values of ``quantization.protocol`` (:data:`PROTOCOLS`), in
    place; ``subset_size: all`` becomes None (every image). Returns ``config``."""
    quantization = config["quantization"]
    protocol = PROTOCOLS[quantization["protocol"]]
    for section, values in protocol.items():
        for key, value in values.items():
            if quantization[section].get(key) is None:
                quantization[section][key] = value
    if quantization["default"]["subset_size"] == "all":
        quantization["default"]["subset_size"] = None
    return config
