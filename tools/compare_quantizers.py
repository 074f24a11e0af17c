"""Compare the activation quantizers of two INT8 IRs of the same FP32 model (e.g. two range estimators).

    python tools/compare_quantizers.py a/int8.xml b/int8.xml [--rtol 1e-6]

Prints one JSON line per quantizer kind (per-tensor, per-channel): how many quantizers the IRs hold, how many
differ in their bounds or signedness, and the ratio of b's upper bounds to a's (median and range over the changed
quantizers; per-channel: over all their channels).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from synthcal.ir import activation_quantizers


def compare(a_xml: str, b_xml: str, rtol: float = 1e-6) -> list[dict]:
    a = {q.name: q for q in activation_quantizers(a_xml)}
    b = {q.name: q for q in activation_quantizers(b_xml)}
    if a.keys() != b.keys():
        raise SystemExit(f"the IRs quantize different activations ({len(a.keys() ^ b.keys())} differ): "
                         "compare IRs of the same FP32 model and settings")
    rows = []
    for kind, per_channel in (("per_tensor", False), ("per_channel", True)):
        names = [n for n, q in a.items() if q.per_channel == per_channel]
        changed = [n for n in names if not (np.allclose(a[n].high, b[n].high, rtol=rtol, atol=0)
                                            and np.allclose(a[n].low, b[n].low, rtol=rtol, atol=0))]
        ratios = np.concatenate([b[n].high / a[n].high for n in changed]) if changed else np.array([])
        rows.append({"kind": kind, "quantizers": len(names), "changed": len(changed),
                     "signedness_changed": sum(a[n].signed != b[n].signed for n in names),
                     "high_ratio_median": float(np.median(ratios)) if changed else None,
                     "high_ratio_min": float(ratios.min()) if changed else None,
                     "high_ratio_max": float(ratios.max()) if changed else None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rtol", type=float, default=1e-6)
    args = parser.parse_args()
    for row in compare(args.a, args.b, args.rtol):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
