"""The image-quality reports computed from stored features (:func:`synthcal.quality.quality_features` summaries): FID
between two sets, the IS/FID rows of every calibration source, the paper's Table 2 and the teacher dump's quality
gate. Kept apart from the feature extraction, so that editing a report never reruns a feature job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthcal.statistics import common_n


def fid_from_summaries(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """FID between two :func:`quality_features` summaries."""
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_statistics_to_metric

    return float(fid_statistics_to_metric({"mu": a["pool_mean"], "sigma": a["pool_cov"]},
                                          {"mu": b["pool_mean"], "sigma": b["pool_cov"]}, verbose=False)[KEY_METRIC_FID])


def image_quality_rows(features: Mapping[str, Mapping[str, Any]], reference: Mapping[str, Any],
                       extractor: str) -> list[dict]:
    """One report row per image set: N, IS (mean, std) when the network has logits, FID against the reference.

    Every summary must name ``extractor`` (as :func:`synthcal.quality.load_features` returns it): FID between
    features of different
    networks means nothing.
    """
    named = {str(f["extractor"]) for f in [reference, *features.values()] if "extractor" in f}
    if named - {extractor}:
        raise ValueError(f"image sets were featurised with different networks ({sorted(named | {extractor})}); "
                         "delete results/reports/features and rerun")
    rows = []
    for name, feats in features.items():
        has_is = "is_mean" in feats
        rows.append({"source": name, "n_images": int(feats["n_images"]),
                     "is_mean": feats["is_mean"] if has_is else None, "is_std": feats["is_std"] if has_is else None,
                     "is_splits": feats["is_splits"] if has_is else None,
                     "fid": fid_from_summaries(feats, reference), "n_reference": int(reference["n_images"]),
                     "fid_reference": reference.get("description") or None,
                     "extractor": extractor, "backend": feats.get("backend") or None,
                     "description": feats.get("description") or None,
                     "is_note": None if has_is else "not computed: no Inception weights with logits "
                                                    "(set quality.inception.path or .url)"})
    return rows


#: Columns of tables/table2.csv, the paper's Table 2 (IS of each source at N), with FID beside it and what makes a
#: row comparable: N, the IS splits, the network, what the images are (e.g. the fractals' colouring), the FID
#: reference, and whether the row was measured at the N of most rows (IS and FID move with N: rows of another N are
#: kept apart, never ranked with the others).
TABLE2_COLUMNS = ["source", "is_mean", "is_std", "n_images", "is_splits", "fid", "n_reference", "extractor",
                  "description", "fid_reference", "comparable"]


def table2(rows: list[dict]) -> list[dict]:
    """The paper's Table 2 from :func:`image_quality_rows` (columns :data:`TABLE2_COLUMNS`): the rows measured at
    the common N (:func:`common_n`) first, ``comparable`` True, then the others, ``comparable`` False."""
    n = common_n([r["n_images"] for r in rows])
    out = [{**{c: row[c] for c in TABLE2_COLUMNS[:-1]}, "comparable": row["n_images"] == n} for row in rows]
    return [r for r in out if r["comparable"]] + [r for r in out if not r["comparable"]]


class GateFailed(RuntimeError):
    """The teacher dump failed its quality gate; the message names the threshold's config key."""


def teacher_gate(agreement: list[dict], features: Mapping[str, Any] | None, reference: Mapping[str, Any] | None,
                 min_label_agreement: float | None = None, max_fid: float | None = None) -> dict[str, Any]:
    """The teacher dump's quality gate: label agreement with every configured classifier (rows of
    :func:`synthcal.evaluate.label_agreement` on the dump's calibration folder) and FID against the real reference
    (from :func:`synthcal.quality.quality_features` summaries; None without quality reports), checked against the thresholds.

    Returns the gate record; ``passed`` is False when a threshold is not met (see :func:`check_gate`).
    """
    by_model = {row["model"]: float(row["accuracy"]) for row in agreement}
    fid = fid_from_summaries(features, reference) if features is not None and reference is not None else None
    failures = []
    if min_label_agreement is not None and by_model and min(by_model.values()) < min_label_agreement:
        worst = min(by_model, key=by_model.get)
        failures.append(f"label agreement {by_model[worst]:.3f} with {worst} is below "
                        f"teacher.gate.min_label_agreement = {min_label_agreement}")
    if max_fid is not None and fid is not None and fid > max_fid:
        failures.append(f"FID {fid:.1f} is above teacher.gate.max_fid = {max_fid}")
    return {"label_agreement": by_model, "n_agreement_images": {r["model"]: int(r["n_images"]) for r in agreement},
            "fid": fid, "n_images": int(features["n_images"]) if features is not None else None,
            "n_reference": int(reference["n_images"]) if reference is not None else None,
            "extractor": str(features["extractor"]) if features is not None else None,
            "min_label_agreement": min_label_agreement, "max_fid": max_fid,
            "passed": not failures, "failures": failures}


def check_gate(gate: Mapping[str, Any]) -> None:
    """Raise :class:`GateFailed` when the gate did not pass, with what failed and how to proceed."""
    if not gate["passed"]:
        raise GateFailed("the teacher dump failed its quality gate: " + "; ".join(gate["failures"]) +
                         ". Improve the teacher (teacher.trained.*), or relax or unset the threshold to go on.")
