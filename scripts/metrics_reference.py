#!/usr/bin/env python3
"""Independent reference for the probunet metrics (DESIGN.md §3) -> test vectors.

Writes crates/metrics/tests/data/metrics_vectors.json, which
crates/probunet/tests/metrics.rs reads and matches to 1e-9. Both this script and its output are
committed; rerun it only when a convention changes:

    pip install numpy scipy
    python3 scripts/metrics_reference.py

This is deliberately a separate implementation from the Rust one: dense boolean arrays instead
of bitsets, numpy reductions instead of loops, scipy's linear_sum_assignment (float costs)
instead of pathfinding's integer Kuhn-Munkres. Conventions it encodes:

* IoU on the foreground; both masks empty -> 1, exactly one empty -> 0; d = 1 - IoU.
* GED^2 = 2 E[d(s,y)] - E[d(s,s')] - E[d(y,y')], means over the full pairwise matrices, diagonals
  included; annotation weights w (normalised to sum 1): E over y weighted by w_j, over y,y' by
  w_j w_k.
* HM-IoU: annotations tiled to ceil(n/m)*m slots (slot s = annotation s mod m), maximum-IoU
  assignment of the n samples to distinct slots, mean IoU of the n matched pairs.
* Uncertainty: p = mean of the sample masks (weighted mean for annotations), variance p(1-p),
  binary entropy in bits with 0 log 0 = 0.
* NCC: Pearson correlation of the sample and annotation variance maps; both maps constant and
  equal -> 1; otherwise either map constant -> 0.
* Hypothesis frequencies: nearest annotation by IoU (ties -> lower index), shares vs normalised
  weights, mean absolute error over hypotheses.
"""

import json
import math
import pathlib

import numpy as np
from scipy.optimize import linear_sum_assignment

SEED = 20261126
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/metrics/tests/data/metrics_vectors.json"


def iou_matrix(a, b):
    """a: (n, H, W) bool, b: (m, H, W) bool -> (n, m) IoU with the empty-mask rules."""
    fa = a.reshape(len(a), -1).astype(np.int64)
    fb = b.reshape(len(b), -1).astype(np.int64)
    inter = fa @ fb.T
    union = fa.sum(1)[:, None] + fb.sum(1)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / union
    return np.where(union == 0, 1.0, iou)


def ged(samples, annotations, weights):
    w = weights / weights.sum()
    d_cross = 1.0 - iou_matrix(samples, annotations)
    d_ss = 1.0 - iou_matrix(samples, samples)
    d_aa = 1.0 - iou_matrix(annotations, annotations)
    cross = float(np.mean(d_cross @ w))
    ss = float(np.mean(d_ss))
    aa = float(w @ d_aa @ w)
    return {"squared": 2 * cross - ss - aa, "cross": cross, "samples": ss, "annotations": aa}


def hm_iou(samples, annotations):
    n, m = len(samples), len(annotations)
    iou = iou_matrix(samples, annotations)
    slots = -(-n // m) * m
    tiled = iou[:, np.arange(slots) % m]
    rows, cols = linear_sum_assignment(tiled, maximize=True)
    assert list(rows) == list(range(n))
    return float(tiled[rows, cols].mean())


def entropy(p):
    out = np.zeros_like(p)
    for q in (p, 1.0 - p):
        pos = q > 0
        out[pos] -= q[pos] * np.log2(q[pos])
    return out


def ncc(a, b):
    a, b = a.ravel(), b.ravel()
    ca, cb = np.all(a == a[0]), np.all(b == b[0])
    if ca and cb:
        return 1.0 if a[0] == b[0] else 0.0
    if ca or cb:
        return 0.0
    da, db = a - a.mean(), b - b.mean()
    return float(np.clip((da * db).sum() / math.sqrt((da * da).sum() * (db * db).sum()), -1, 1))


def frequencies(samples, annotations, weights):
    w = weights / weights.sum()
    nearest = np.argmax(iou_matrix(samples, annotations), axis=1)  # first maximum on ties
    shares = np.bincount(nearest, minlength=len(annotations)) / len(samples)
    err = np.abs(shares - w)
    return nearest, shares, err


def map_summary(v):
    """Sum and an index-weighted sum (catches transposed or shuffled maps) of a (H, W) map."""
    flat = v.ravel()
    return {"sum": float(flat.sum()), "index_weighted_sum": float((flat * np.arange(1, flat.size + 1)).sum())}


def random_mask(rng, h, w, kind):
    if kind == "empty":
        return np.zeros((h, w), bool)
    if kind == "full":
        return np.ones((h, w), bool)
    if kind == "noise":
        return rng.random((h, w)) < rng.uniform(0.05, 0.6)
    # A union of one to three random rectangles and discs.
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), bool)
    for _ in range(rng.integers(1, 4)):
        if rng.random() < 0.5:
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            mask[y0 : y0 + rng.integers(1, h // 2 + 2), x0 : x0 + rng.integers(1, w // 2 + 2)] = True
        else:
            cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(1, max(h, w) / 3)
            mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    return mask


def random_set(rng, count, h, w, empty_rate, base=None):
    """Blobs, some noise, some empties; perturbed copies of `base` masks make IoUs non-trivial."""
    out = []
    for _ in range(count):
        u = rng.random()
        if u < empty_rate:
            out.append(random_mask(rng, h, w, "empty"))
        elif base is not None and u < 0.6:
            m = base[rng.integers(len(base))].copy()
            flip = rng.random((h, w)) < 0.08
            out.append(m ^ flip if rng.random() < 0.7 else m)
        elif u < 0.7:
            out.append(random_mask(rng, h, w, "noise"))
        else:
            out.append(random_mask(rng, h, w, "blob"))
    return np.array(out)


def bits(mask):
    return "".join("1" if v else "0" for v in mask.ravel())


def case(name, samples, annotations, weights=None):
    n, m = len(samples), len(annotations)
    h, w = samples.shape[1:]
    wts = np.ones(m) if weights is None else np.asarray(weights, float)
    p_s = samples.mean(0)
    p_a = np.tensordot(wts / wts.sum(), annotations.astype(float), axes=1)
    p_a = np.minimum(p_a, 1.0)
    nearest, shares, err = frequencies(samples, annotations, wts)
    g = ged(samples, annotations, wts)
    return {
        "name": name,
        "width": int(w),
        "height": int(h),
        "samples": [bits(s) for s in samples],
        "annotations": [bits(a) for a in annotations],
        "weights": None if weights is None else [float(x) for x in weights],
        "iou_cross": iou_matrix(samples, annotations).tolist(),
        "iou_samples": iou_matrix(samples, samples).tolist(),
        "iou_annotations": iou_matrix(annotations, annotations).tolist(),
        "ged": g,
        "diversity": g["samples"],
        "hm_iou": hm_iou(samples, annotations),
        "ncc": ncc(p_s * (1 - p_s), p_a * (1 - p_a)),
        "sample_frequency": map_summary(p_s),
        "sample_variance": map_summary(p_s * (1 - p_s)),
        "sample_entropy": map_summary(entropy(p_s)),
        "annotation_frequency": map_summary(p_a),
        "annotation_variance": map_summary(p_a * (1 - p_a)),
        "nearest_hypothesis": [int(k) for k in nearest],
        "hypothesis_shares": shares.tolist(),
        "frequency_mae": float(err.mean()),
    }


def main():
    rng = np.random.default_rng(SEED)
    cases = []
    specs = [
        # name, n, m, (h, w), empty rate, weighted
        ("square_n4_m4", 4, 4, (16, 16), 0.1, False),
        ("n7_m3_not_multiple", 7, 3, (16, 16), 0.15, False),
        ("n5_m1", 5, 1, (16, 16), 0.0, False),
        ("n2_m5_fewer_samples", 2, 5, (16, 16), 0.2, False),
        ("n16_m4_weighted", 16, 4, (16, 16), 0.1, True),
        ("n10_m3_13x11_weighted", 10, 3, (11, 13), 0.2, True),
        ("n9_m4_many_empty", 9, 4, (16, 16), 0.5, False),
    ]
    for name, n, m, (h, w), empty_rate, weighted in specs:
        annotations = random_set(rng, m, h, w, empty_rate)
        samples = random_set(rng, n, h, w, empty_rate, base=annotations)
        weights = [float(x) for x in rng.integers(1, 6, size=m)] if weighted else None
        cases.append(case(name, samples, annotations, weights))
    # Edge cases: everything empty; samples identical to annotations; one sample vs one annotation.
    z = np.zeros((3, 16, 16), bool)
    cases.append(case("all_empty", z, z[:2]))
    same = random_set(rng, 4, 16, 16, 0.25)
    cases.append(case("identical_sets", same, same))
    cases.append(case("n1_m1", random_set(rng, 1, 8, 8, 0.0), random_set(rng, 1, 8, 8, 0.0)))
    doc = {
        "generator": "scripts/metrics_reference.py",
        "seed": SEED,
        "numpy": np.__version__,
        "mask_encoding": "row-major '0'/'1' string of width*height pixels",
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")
    for c in cases:
        print(f"  {c['name']}: GED2={c['ged']['squared']:.4f} HM-IoU={c['hm_iou']:.4f} NCC={c['ncc']:.4f}")


if __name__ == "__main__":
    main()
