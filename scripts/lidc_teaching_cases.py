#!/usr/bin/env python3
"""Writes the page's real LIDC teaching cases into public/demo from shared/lidc-crops.

Cases come from validation patients only (docs/lidc-validation-patients.txt: never trained on).
For each k in (4, 3, 2) readers who drew the nodule, the slice whose mean outline area is the
median of all validation slices with k readers (a typical case, chosen by rule, not by how the
model does on it). Each case is the 128 x 128 crop (the model's min-max context) and its four
annotation slots; identical outlines are merged into one hypothesis with their share of the four.
The synthetic cases already in index.json are kept; LIDC entries are replaced.

    python3 scripts/lidc_teaching_cases.py ../shared/lidc-crops public/demo
"""
import json
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from png_grey import decode_grey  # noqa: E402

ATTRIBUTION = ("LIDC-IDRI (CC BY 3.0): Armato SG III et al., The Cancer Imaging Archive (2015), "
               "doi:10.7937/K9/TCIA.2015.LO9QL9SX")


def validation_patients(repo):
    text = (repo / "docs/lidc-validation-patients.txt").read_text()
    return [l for l in text.splitlines() if l and not l.startswith("#")]


def slices_of(tar_path):
    """{(nodule, slice): {"image": bytes, 0..3: bytes}} of one patient's archive."""
    out = {}
    with tarfile.open(tar_path) as tf:
        for m in tf.getmembers():
            parts = m.name.split("/")
            if not m.isfile() or len(parts) != 4:
                continue
            _, nodule, kind, name = parts
            key = (nodule, name)
            slot = "image" if kind == "images" else int(kind.split("-")[1])
            out.setdefault(key, {})[slot] = tf.extractfile(m).read()
    return out


def main(crops, out):
    repo = Path(__file__).resolve().parent.parent
    candidates = {4: [], 3: [], 2: []}
    for patient in validation_patients(repo):
        for (nodule, name), files in sorted(slices_of(crops / f"{patient}.tar").items()):
            masks = [decode_grey(files[r])[2] for r in range(4)]
            areas = [sum(1 for v in m if v) for m in masks]
            drawn = sum(1 for a in areas if a)
            if drawn in candidates:
                mean = sum(areas) / drawn
                candidates[drawn].append((mean, patient, nodule, name, files, masks))
    index_path = out / "index.json"
    index = json.loads(index_path.read_text())
    index["cases"] = [c for c in index["cases"] if c.get("source", "synthetic") != "lidc"]
    for drawn, found in candidates.items():
        found.sort(key=lambda c: (c[0], c[1], c[2], c[3]))
        mean, patient, nodule, name, files, masks = found[len(found) // 2]
        stem = f"lidc-{patient[-4:]}-{nodule}-{name[:-4]}"
        (out / f"{stem}_image.png").write_bytes(files["image"])
        groups = []  # (mask pixels, [slots])
        for slot, mask in enumerate(masks):
            binary = bytes(1 if v else 0 for v in mask)
            for group in groups:
                if group[0] == binary:
                    group[1].append(slot)
                    break
            else:
                groups.append((binary, [slot]))
        hypotheses = []
        for k, (binary, slots) in enumerate(groups):
            readers = ", ".join(str(s + 1) for s in slots)
            empty = not any(binary)
            label = (f"no nodule (reader{'s' if len(slots) > 1 else ''} {readers})" if empty
                     else f"reader{'s' if len(slots) > 1 else ''} {readers}")
            file = f"{stem}_reader-{k}.png"
            (out / file).write_bytes(files[slots[0]])
            hypotheses.append({"label": label, "probability": len(slots) / 4, "rare": False,
                               "file": file})
        description = (f"A real chest CT slice ({patient}, {nodule}, {name[:-4]}): {drawn} of four "
                       f"radiologists outlined a nodule here, independently. The outlines below are "
                       f"theirs; the model never saw this patient. {ATTRIBUTION}.")
        doc = {"name": stem, "source": "lidc", "description": description,
               "image": f"{stem}_image.png", "hypotheses": hypotheses}
        (out / f"{stem}.json").write_text(json.dumps(doc, indent=2) + "\n")
        index["cases"].append({"name": stem, "source": "lidc", "hypotheses": len(hypotheses),
                               "file": f"{stem}.json"})
        print(f"{stem}: {drawn} readers drew it, mean area {mean:.0f} px, "
              f"{len(hypotheses)} distinct outlines")
    index_path.write_text(json.dumps(index, indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
