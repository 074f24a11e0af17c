"""The quantization algorithms of the grid as data: the paper's two built-in ones and the named variants a user
defines in ``quantization.variants``.

An :class:`Algorithm` says which backend runs it, what kind of job it is, which of the paper's tables it fills, which
models it is restricted to and which settings it changes from its built-in base. The planner
(:mod:`synthcal.planning.quantization`) turns an algorithm into a job's settings; nothing here imports more than
the standard library, so planning stays light.

    quantization:
      variants:
        full_bias_correction: {from: default, fast_bias_correction: false}
        mean_quantile:        {from: default, range_estimator: mean_quantile}
    experiment:
      algorithms: [default, full_bias_correction, mean_quantile]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from synthcal.schema import VARIANT_SECTIONS, ConfigError, schema, suggestion
from synthcal.sources.registry import traits

#: The paper's algorithms: NNCF's default quantization (Table 1a) and accuracy-aware quantization (Table 1b).
BUILTIN = ("default", "accuracy_aware")
#: The sections of ``quantization`` a variant of each backend changes.
BACKEND_SECTIONS = {"nncf": ("default", "accuracy_aware"), "brevitas": ("brevitas",)}
#: Keys of a variant that are about the variant itself, in no section.
OWN_KEYS = ("from", "backend", "models", "repeats", "sources")


@dataclass(frozen=True)
class Algorithm:
    """A quantization algorithm of the grid (see the module docstring).

    ``kind`` is the job a backend runs (NNCF: ``default`` or ``accuracy_aware``; Brevitas: ``brevitas``);
    ``models`` None means every experiment model; ``changes`` maps a section of ``quantization`` (``default``,
    ``accuracy_aware``, ``brevitas``) to the keys a variant sets there; ``base`` is the built-in algorithm an NNCF
    variant derives from (None otherwise); ``repeats`` limits its calibration draws (None: every repeat) and
    ``sources`` its calibration sources (None: every one).
    """

    name: str
    backend: str
    kind: str
    paper_table: str | None = None
    models: tuple[str, ...] | None = None
    changes: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    base: str | None = None
    repeats: int | None = None
    sources: tuple[str, ...] | None = None

    def changed(self, section: str) -> dict[str, Any]:
        """The settings the algorithm changes in one section of ``quantization`` (``subset_size: all`` -> None,
        as the protocol resolves it)."""
        values = dict(dict(self.changes).get(section, ()))
        if values.get("subset_size") == "all":
            values["subset_size"] = None
        return values


def _section_keys() -> dict[str, set[str]]:
    quantization = schema()["properties"]["quantization"]["properties"]
    return {section: set(quantization[section]["properties"]) for section in VARIANT_SECTIONS}


def catalogue(config: Mapping[str, Any]) -> dict[str, Algorithm]:
    """Every algorithm a configuration defines, by name: the built-in ones, then the variants."""
    quantization = config["quantization"]
    aa_models = tuple(quantization["accuracy_aware"]["models"])
    found = {"default": Algorithm("default", "nncf", "default", "table1a"),
             "accuracy_aware": Algorithm("accuracy_aware", "nncf", "accuracy_aware", "table1b", aa_models)}
    keys = _section_keys()
    for name, entry in quantization["variants"].items():
        brevitas = entry["backend"] == "brevitas"
        if not brevitas and entry.get("from") not in found:
            continue  # refused by check_algorithms
        base = None if brevitas else found[entry["from"]]
        sets = {k: v for k, v in entry.items() if k not in OWN_KEYS and v is not None}
        changes = []
        for section in BACKEND_SECTIONS[entry["backend"]]:
            here = {k: v for k, v in sets.items() if k in keys[section]}
            sets = {k: v for k, v in sets.items() if k not in here}
            if here:
                changes.append((section, tuple(sorted(here.items(), key=lambda kv: kv[0]))))
        models = tuple(entry["models"]) if entry.get("models") is not None else (base.models if base else None)
        found[name] = Algorithm(name, entry["backend"], "brevitas" if brevitas else base.kind, None, models,
                                tuple(changes), None if brevitas else base.name, entry.get("repeats"),
                                tuple(entry["sources"]) if entry.get("sources") is not None else None)
    return found


def active(config: Mapping[str, Any]) -> list[Algorithm]:
    """The algorithms of ``experiment.algorithms``, as data."""
    defined = catalogue(config)
    return [defined[name] for name in config["experiment"]["algorithms"] if name in defined]


def setting(config: Mapping[str, Any], algorithm: Algorithm, section: str, key: str) -> Any:
    """The value an algorithm runs with for one key of a section of ``quantization``: its own or the section's."""
    return algorithm.changed(section).get(key, config["quantization"][section][key])


def check_algorithms(config: Mapping[str, Any]) -> None:
    """The configured algorithms exist, each variant sets only what its base has, and no setting claims a protocol
    it does not follow.

    Raises:
        ConfigError: naming the key and the fix.
    """
    quantization = config["quantization"]
    defined = catalogue(config)
    keys = _section_keys()
    aa_only = keys["accuracy_aware"] - keys["default"] - {"models"}  # any variant may restrict its models
    for name, entry in quantization["variants"].items():
        where = f"quantization.variants.{name}"
        if entry["backend"] == "brevitas":
            foreign = sorted(k for k in entry if k not in OWN_KEYS and k not in keys["brevitas"] or k == "from")
            if foreign:
                raise ConfigError(f"config key '{where}.{foreign[0]}' is not a setting of the brevitas backend "
                                  f"(its keys: {', '.join(sorted(keys['brevitas']))}, models, repeats)")
        else:
            if "from" not in entry:
                raise ConfigError(f"config key '{where}' needs 'from': the built-in algorithm whose settings it "
                                  f"changes ({', '.join(BUILTIN)}), or 'backend: brevitas'")
            foreign = sorted(k for k in entry if k in keys["brevitas"] and k not in keys["default"])
            if foreign:
                raise ConfigError(f"config key '{where}.{foreign[0]}' is a setting of the brevitas backend: set "
                                  "'backend: brevitas' (without from), or remove it")
            misplaced = sorted(k for k in entry if k in aa_only and entry["from"] != "accuracy_aware")
            if misplaced:
                raise ConfigError(f"config key '{where}.{misplaced[0]}' is a setting of accuracy-aware quantization: "
                                  "set 'from: accuracy_aware', or remove it")
            if not any(k not in OWN_KEYS for k in entry) and "models" not in entry:
                raise ConfigError(f"config key '{where}' changes nothing of '{entry['from']}': name the settings "
                                  "it changes, or remove it")
        unknown = [s for s in entry.get("sources") or () if s not in config["experiment"]["sources"]]
        if unknown:
            raise ConfigError(f"config key '{where}.sources' names {unknown[0]!r}, which is not one of "
                              f"experiment.sources ({', '.join(config['experiment']['sources'])})")
        if entry.get("repeats") is not None and entry["repeats"] > config["repeats"]:
            raise ConfigError(f"config key '{where}.repeats' is {entry['repeats']}, more than the "
                              f"{config['repeats']} calibration draws of 'repeats'")
    for name in config["experiment"]["algorithms"]:
        if name not in defined:
            raise ConfigError(f"config key 'experiment.algorithms' names {name!r}, which is neither a built-in "
                              f"algorithm ({', '.join(BUILTIN)}) nor a variant of 'quantization.variants' (defined: "
                              f"{', '.join(n for n in defined if n not in BUILTIN) or 'none'}){suggestion(name, defined)}")
    for algorithm in active(config):
        if algorithm.kind == "accuracy_aware":
            _check_agreement_images(config, algorithm)
    if quantization["protocol"] == "pot":
        for name in config["experiment"]["algorithms"]:
            algorithm = defined[name]
            preset = algorithm.changed("default").get("preset", quantization["default"]["preset"])
            if algorithm.backend == "nncf" and preset == "mixed":
                key = "quantization.default.preset" if algorithm.base is None else f"quantization.variants.{name}.preset"
                raise ConfigError(f"config key '{key}': the mixed preset (asymmetric activations) is not reproduced "
                                  "under 'quantization.protocol: pot': POT's range rule here is the symmetric one (the "
                                  "per-image absolute maximum), so the run would not be POT's; set "
                                  "'quantization.protocol: nncf' for NNCF's mixed preset, or use preset performance")


def _check_agreement_images(config: Mapping[str, Any], algorithm: Algorithm) -> None:
    """The share an accuracy-aware algorithm holds out for agreement validation holds out some image and leaves
    some to calibrate on in every folder it validates that way (the sources without classes under ``auto``)."""
    validation = setting(config, algorithm, "accuracy_aware", "validation")
    fraction = setting(config, algorithm, "accuracy_aware", "agreement_fraction")
    if validation not in ("auto", "agreement"):
        return
    for source in config["experiment"]["sources"]:
        if validation == "auto" and traits(source, config).labelled:
            continue
        size = 10 * (config["bn_inversion"] if source == "bn_inversion" else config["calibration"])["n_per_class"]
        if not 0 < round(fraction * size) < size:
            key = ("quantization.accuracy_aware" if algorithm.base is None or "agreement_fraction" not in
                   config["quantization"]["variants"][algorithm.name] else f"quantization.variants.{algorithm.name}")
            raise ConfigError(f"config key '{key}.agreement_fraction' {fraction:g} holds out no image of the "
                              f"{source} folder's {size} (or all): raise it, or use validation calibration or holdout")
