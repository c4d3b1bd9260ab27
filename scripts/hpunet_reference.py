#!/usr/bin/env python3
"""An independent PyTorch implementation of the hierarchical probabilistic U-Net (Kohl et al.
2019, arXiv 1905.13077) as ProbSeg specifies it, and the reference outputs our burn model is
tested against (`crates/probunet/tests/it/hpu_reference.rs`, ≤ 1e-4).

Written from the specification (docs/ARCHITECTURE.md, issue 20), not from the Rust code:

* pre-activated residual blocks: ReLU, then `convs_per_block` 3×3 convs at the inner width
  with ReLUs between them, a 1×1 "lift" back to the output width where they differ; the input
  joins through a 1×1 projection only where the channel count changes; no normalisation;
* `len(channels)` levels, 2×2 average pooling down, nearest ×2 up;
* the prior is the U-Net's own decoder: at each of the `len(latent_dims)` coarsest scales a 1×1
  conv gives μ and log σ (clamped to [-8, 8]) per pixel; the latent is concatenated to the
  features, upsampled, joined with the skip and decoded by the next level's blocks; the finer
  levels are a plain ("stitching") decoder, then a 1×1 conv to the logits;
* the posterior (image + one-hot mask) has its own encoder and latent decoder, without the
  level after its last latent; in training its latents are fed down the prior's decoder
  (teacher forcing) and each scale's KL(q‖p) is summed over pixels and channels, averaged over
  the batch;
* GECO on a stochastic top-k cross-entropy: the kept pixels' CE summed per image (mean over
  the batch) is the reconstruction; C = EMA(rec) − κ·kept-per-image; loss λ·C + ΣKL, whose
  gradient is that of λ·rec + ΣKL ("differentiable EMA"); λ ← clamp(λ·exp(clamp(ν·C/kept, ±1)),
  1e-3, 1e4).

Parameter names equal the burn module's record paths, so the SafeTensors file loads without a
key map. Run (needs torch, numpy, safetensors; `pip install torch numpy safetensors`):

    python3 scripts/hpunet_reference.py --out crates/probunet/tests/data/hpunet-reference
"""

import argparse
import json
import math
import pathlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

LOG_SIGMA_BOUNDS = (-8.0, 8.0)
LAMBDA_BOUNDS = (1e-3, 1e4)

# A small config that still has every part: skip projections and lifts, two blocks of three
# convs, three latent scales from 1×1 (one with two channels), two stitched levels.
CONFIG = {
    "in_channels": 1,
    "num_classes": 2,
    "channels": [4, 6, 8, 8, 8, 8],
    "down_channels": [2, 3, 4, 4, 4, 4],
    "convs_per_block": 3,
    "blocks_per_level": 2,
    "latent_dims": [1, 2, 1],
    "input": None,
}
BATCH, SIDE = 2, 32
GECO = {"kappa": 0.05, "top_k": 0.02, "decay": 0.99, "rate": 0.01}
GECO_STATE = {"average": 12.5, "lambda": 1.7}


class ResBlock(nn.Module):
    def __init__(self, c_in, c_out, c_down, n_convs):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in if i == 0 else c_down, c_down, 3, padding=1) for i in range(n_convs)
        )
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None
        self.lift = nn.Conv2d(c_down, c_out, 1) if c_down != c_out else None

    def forward(self, x):
        h = F.relu(x)
        for i, conv in enumerate(self.convs):
            h = conv(h)
            if i + 1 < len(self.convs):
                h = F.relu(h)
        if self.lift is not None:
            h = self.lift(h)
        return (self.skip(x) if self.skip is not None else x) + h


class Level(nn.Module):
    def __init__(self, c_in, c_out, c_down, cfg):
        super().__init__()
        self.blocks = nn.ModuleList(
            ResBlock(c_in if i == 0 else c_out, c_out, c_down, cfg["convs_per_block"])
            for i in range(cfg["blocks_per_level"])
        )

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


class Encoder(nn.Module):
    def __init__(self, cfg, c_in):
        super().__init__()
        ch, down = cfg["channels"], cfg["down_channels"]
        self.levels = nn.ModuleList(
            Level(c_in if i == 0 else ch[i - 1], ch[i], down[i], cfg) for i in range(len(ch))
        )

    def forward(self, x):
        out = []
        for i, level in enumerate(self.levels):
            if i > 0:
                x = F.avg_pool2d(x, 2)
            x = level(x)
            out.append(x)
        return out


class LatentScale(nn.Module):
    def __init__(self, head, level):
        super().__init__()
        self.head = head
        self.level = level


class LatentDecoder(nn.Module):
    """`choose(l, mu, log_sigma)` returns the latent scale l decodes with."""

    def __init__(self, cfg, with_last_level):
        super().__init__()
        ch, down, dims = cfg["channels"], cfg["down_channels"], cfg["latent_dims"]
        top = len(ch) - 1
        scales = []
        for l, m in enumerate(dims):
            lev = top - l
            decodes = with_last_level or l + 1 < len(dims)
            level = Level(m + ch[lev] + ch[lev - 1], ch[lev - 1], down[lev - 1], cfg) if decodes else None
            scales.append(LatentScale(nn.Conv2d(ch[lev], 2 * m, 1), level))
        self.scales = nn.ModuleList(scales)

    def forward(self, feats, choose):
        top = len(feats) - 1
        x = feats[top]
        dists, zs = [], []
        for l, scale in enumerate(self.scales):
            out = scale.head(x)
            m = out.shape[1] // 2
            mu, log_sigma = out[:, :m], out[:, m:].clamp(*LOG_SIGMA_BOUNDS)
            z = choose(l, mu, log_sigma)
            if scale.level is not None:
                joined = F.interpolate(torch.cat([z, x], 1), scale_factor=2, mode="nearest")
                x = scale.level(torch.cat([joined, feats[top - l - 1]], 1))
            dists.append((mu, log_sigma))
            zs.append(z)
        return x, dists, zs


class Stitching(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, down = cfg["channels"], cfg["down_channels"]
        first = len(ch) - 1 - len(cfg["latent_dims"])
        self.levels = nn.ModuleList(
            Level(ch[l + 1] + ch[l], ch[l], down[l], cfg) for l in reversed(range(first))
        )
        self.logits = nn.Conv2d(ch[0], cfg["num_classes"], 1)

    def forward(self, x, feats):
        n = len(self.levels)
        for i, level in enumerate(self.levels):
            up = F.interpolate(x, scale_factor=2, mode="nearest")
            x = level(torch.cat([up, feats[n - 1 - i]], 1))
        return self.logits(x)


class HpuNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.prior_encoder = Encoder(cfg, cfg["in_channels"])
        self.prior_decoder = LatentDecoder(cfg, True)
        self.posterior_encoder = Encoder(cfg, cfg["in_channels"] + cfg["num_classes"])
        self.posterior_decoder = LatentDecoder(cfg, False)
        self.stitching = Stitching(cfg)

    def decode(self, feats, choose):
        x, dists, zs = self.prior_decoder(feats, choose)
        return self.stitching(x, feats), dists, zs

    def posterior(self, x, y, choose):
        onehot = F.one_hot(y, self.cfg["num_classes"]).permute(0, 3, 1, 2).float()
        return self.posterior_decoder(self.posterior_encoder(torch.cat([x, onehot], 1)), choose)


def kl_diag(q, p):
    """KL(q ‖ p) of per-pixel diagonal Gaussians, summed over all but the batch axis."""
    (mq, lq), (mp, lp) = q, p
    kl = lp - lq + (torch.exp(2 * lq) + (mq - mp) ** 2) / (2 * torch.exp(2 * lp)) - 0.5
    return kl.flatten(1).sum(1)


def gumbel_top_k(ce, fraction, gen):
    """0/1 mask keeping ⌊fraction·N⌋ pixels drawn ∝ ce without replacement (Gumbel-top-k)."""
    flat = ce.flatten()
    k = max(1, int(math.floor(flat.numel() * fraction + 1e-6)))
    u = torch.rand(flat.shape, generator=gen, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    score = torch.log(flat.double() / flat.double().sum()) - torch.log(-torch.log(u))
    keep = torch.zeros_like(flat)
    keep[torch.topk(score, k).indices] = 1.0
    return keep.view_as(ce)


def init_(model, gen):
    """LeCun-normal weights and small random biases (so a bias mix-up cannot hide)."""
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            fan_in = p.shape[1] * p.shape[2] * p.shape[3]
            p.data = torch.randn(p.shape, generator=gen) / math.sqrt(fan_in)
        else:
            p.data = 0.1 * torch.randn(p.shape, generator=gen)


def blob_masks(gen):
    """Two label maps with a disc each, of different sizes, off centre."""
    yy, xx = torch.meshgrid(torch.arange(SIDE), torch.arange(SIDE), indexing="ij")
    maps = []
    for cy, cx, r in [(14, 17, 6.0), (19, 11, 3.5)]:
        maps.append(((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r).long())
    return torch.stack(maps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    gen = torch.Generator().manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    model = HpuNet(CONFIG)
    init_(model, gen)
    x = torch.randn(BATCH, 1, SIDE, SIDE, generator=gen)
    y = blob_masks(gen)
    top = len(CONFIG["channels"]) - 1
    shapes = [
        (BATCH, m, (SIDE >> top) << l, (SIDE >> top) << l) for l, m in enumerate(CONFIG["latent_dims"])
    ]
    eps = [torch.randn(s, generator=gen) for s in shapes]
    sample_eps = [torch.randn(s, generator=gen) for s in shapes]
    io = {"x": x, "y": y.float()}
    for l in range(len(shapes)):
        io[f"eps.{l}"] = eps[l]
        io[f"sample_eps.{l}"] = sample_eps[l]

    with torch.no_grad():
        feats = model.prior_encoder(x)
        io["features.top"] = feats[-1]
        io["mean_logits"] = model.decode(feats, lambda l, mu, ls: mu)[0]
        io["sample_logits"] = model.decode(
            feats, lambda l, mu, ls: mu + torch.exp(ls) * sample_eps[l]
        )[0]
        _, _, q_means = model.posterior(x, y, lambda l, mu, ls: mu)
        io["reconstruction_logits"] = model.decode(feats, lambda l, mu, ls: q_means[l])[0]

    # The training pass, with gradients.
    _, q_dists, q_z = model.posterior(x, y, lambda l, mu, ls: mu + torch.exp(ls) * eps[l])
    logits, p_dists, _ = model.decode(model.prior_encoder(x), lambda l, mu, ls: q_z[l])
    io["train_logits"] = logits
    kls = [kl_diag(q, p).mean() for q, p in zip(q_dists, p_dists)]
    for l, ((mq, lq), (mp, lp), kl) in enumerate(zip(q_dists, p_dists, kls)):
        io[f"posterior.{l}.mu"], io[f"posterior.{l}.log_sigma"] = mq, lq
        io[f"prior.{l}.mu"], io[f"prior.{l}.log_sigma"] = mp, lp
        io[f"kl.{l}"] = kl.reshape(1)

    ce = F.cross_entropy(logits, y, reduction="none").flatten(1)  # [B, H·W]
    kept = gumbel_top_k(ce.detach(), GECO["top_k"], gen)
    kept_per_image = kept.sum() / BATCH
    rec = (ce * kept).sum() / BATCH
    average = GECO["decay"] * GECO_STATE["average"] + (1 - GECO["decay"]) * rec.item()
    constraint = average - GECO["kappa"] * kept_per_image.item()
    lam = GECO_STATE["lambda"]
    step = max(-1.0, min(1.0, GECO["rate"] * constraint / max(kept_per_image.item(), 1.0)))
    new_lambda = min(max(lam * math.exp(step), LAMBDA_BOUNDS[0]), LAMBDA_BOUNDS[1])
    kl_sum = torch.stack(kls).sum()
    total = lam * rec + kl_sum
    total.backward()
    io["geco.kept"] = kept
    io["geco.values"] = torch.tensor(
        [rec.item(), constraint, lam * constraint + kl_sum.item(), new_lambda, average]
    )
    for name in [
        "prior_encoder.levels.0.blocks.0.convs.0.weight",
        "posterior_encoder.levels.0.blocks.0.convs.0.weight",
        "prior_decoder.scales.0.head.weight",
        "posterior_decoder.scales.2.head.bias",
        "stitching.logits.weight",
    ]:
        io[f"grad.{name}"] = dict(model.named_parameters())[name].grad

    args.out.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, args.out / "weights.safetensors")
    save_file({k: v.detach().float().contiguous() for k, v in io.items()}, args.out / "io.safetensors")
    meta = {"config": CONFIG, "geco": GECO, "geco_state": GECO_STATE, "seed": args.seed,
            "torch": torch.__version__}
    (args.out / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {len(weights)} weights ({sum(v.numel() for v in weights.values())} values) "
          f"and {len(io)} tensors to {args.out}")


if __name__ == "__main__":
    main()
