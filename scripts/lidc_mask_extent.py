#!/usr/bin/env python3
"""How much of each LIDC outline a centred model crop of 64 or 32 pixels sees (why 64, README).

    python3 scripts/lidc_mask_extent.py ../shared/lidc-crops [patients=40]
"""
import glob
import random
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from png_grey import decode_grey  # noqa: E402

crops = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 40
random.seed(0)
tars = sorted(glob.glob(f"{crops}/*.tar"))
random.shuffle(tars)
total = out64 = out32 = masks = fit64 = fit32 = 0
areas = []
for t in tars[:count]:
    with tarfile.open(t) as tf:
        for m in tf.getmembers():
            if "/mask-" not in m.name or not m.isfile():
                continue
            w, _, px = decode_grey(tf.extractfile(m).read())
            fg = [(i % w, i // w) for i, v in enumerate(px) if v]
            if not fg:
                continue
            masks += 1
            areas.append(len(fg))
            o64 = sum(1 for x, y in fg if not (32 <= x < 96 and 32 <= y < 96))
            o32 = sum(1 for x, y in fg if not (48 <= x < 80 and 48 <= y < 80))
            total += len(fg)
            out64 += o64
            out32 += o32
            fit64 += o64 == 0
            fit32 += o32 == 0
areas.sort()
print(f"{count} patients, {masks} non-empty outlines: wholly inside the centre 64²: "
      f"{fit64 / masks:.3f}, 32²: {fit32 / masks:.3f}; outline pixels outside 64²: "
      f"{out64 / total:.4f}, 32²: {out32 / total:.4f}; area median {areas[len(areas) // 2]} px, "
      f"p90 {areas[int(len(areas) * .9)]}, max {areas[-1]}")
