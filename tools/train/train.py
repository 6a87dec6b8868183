"""Train the bundled default model: an epsilon-prediction DDPM on the avatar set (tools/dataset/generate.ts).

Linear betas over 1000 steps, uniform t, MSE on epsilon, AdamW, EMA weights. The run is bounded by wall-clock
time (--seconds) so it fits a fixed GPU lease; the step count reached is logged. Everything needed to repeat the
run (config, seed, dataset sha256, torch and device) goes into train_log.json.

After training, with the EMA weights in float32, it measures what the model card reports:
  - noise-prediction MSE at t = 100, 500, 900 on 256 training and the 256 held-out images (same noise seed),
  - DDIM (100 steps) inversion then regeneration PSNR on 16 held-out avatars,
  - a 4x4 grid of DDIM 50-step samples (torch generator seeds 0-15),
and writes the EMA state dict in pieces of at most --piece-mb MiB (the GPU lease returns files of at most 16 MiB).

  python3 tools/train/train.py --data .data/avatars64 --out runs/avatars64 --seconds 420
"""
import argparse
import hashlib
import io
import json
import lzma
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import DEFAULT_CONFIG, UNet, linear_alphas_cumprod  # noqa: E402


def load_stack(data_dir: str, name: str, size: int) -> np.ndarray:
    path = os.path.join(data_dir, name)
    if os.path.exists(path):
        raw = open(path, "rb").read()
    elif os.path.exists(path + ".xz"):
        raw = lzma.decompress(open(path + ".xz", "rb").read())
    else:
        raise FileNotFoundError(f"{path} (or .xz) not found: run tools/dataset/generate.ts first")
    manifest = json.load(open(os.path.join(data_dir, "manifest.json")))
    src = manifest["size"]
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(-1, src, src, 3)
    return arr, hashlib.sha256(raw).hexdigest(), manifest


def to_model_range(u8: torch.Tensor, size: int) -> torch.Tensor:
    x = u8.permute(0, 3, 1, 2).float() / 127.5 - 1.0
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="area")
    return x


def ddim_timesteps(n: int, T: int = 1000) -> list:
    """The authors' schedule: n values of linspace(0, T-1), rounded."""
    return [int(round(v)) for v in np.linspace(0, T - 1, n)]


@torch.no_grad()
def ddim_step(model, x, t, t_next, abar):
    eps = model(x, torch.full((1,), t, dtype=torch.long, device=x.device))
    a_t, a_n = abar[t], abar[t_next]
    x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
    return a_n.sqrt() * x0 + (1 - a_n).sqrt() * eps


@torch.no_grad()
def ddim_generate(model, x, abar, steps):
    seq = ddim_timesteps(steps)
    for i in range(len(seq) - 1, 0, -1):
        x = ddim_step(model, x, seq[i], seq[i - 1], abar)
    eps = model(x, torch.zeros(1, dtype=torch.long, device=x.device))
    return (x - (1 - abar[0]).sqrt() * eps) / abar[0].sqrt()


@torch.no_grad()
def ddim_invert(model, x0, abar, steps):
    seq = ddim_timesteps(steps)
    x = x0
    for i in range(0, len(seq) - 1):
        x = ddim_step(model, x, seq[i], seq[i + 1], abar)
    return x


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """PSNR in dB of images in [-1, 1], per image (peak-to-peak 2)."""
    a = a.clamp(-1, 1)
    b = b.clamp(-1, 1)
    mse = ((a - b) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(4.0 / mse)


def save_grid(x: torch.Tensor, path: str, cols: int = 4):
    from PIL import Image

    imgs = ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    n, h, w, _ = imgs.shape
    rows = math.ceil(n / cols)
    grid = np.full((rows * h, cols * w, 3), 255, np.uint8)
    for i, img in enumerate(imgs):
        grid[(i // cols) * h:(i // cols + 1) * h, (i % cols) * w:(i % cols + 1) * w] = img
    Image.fromarray(grid).save(path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=".data/avatars64")
    p.add_argument("--out", default="runs/avatars64")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--seconds", type=float, default=420)
    p.add_argument("--max-steps", type=int, default=10**9)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=20261126)
    p.add_argument("--piece-mb", type=float, default=15)
    p.add_argument("--eval-images", type=int, default=256)
    p.add_argument("--sample-steps", type=int, default=50)
    p.add_argument("--inversion-steps", type=int, default=100)
    p.add_argument("--config", default="{}", help="JSON overrides of the U-Net config")
    p.add_argument("--resume", default=None,
                   help="folder with an earlier run's train_log.json and ema.pt.part*: continue from its EMA weights "
                        "(optimizer state is not kept, so the learning rate warms up again)")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    started = time.time()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True

    train_u8, train_sha, manifest = load_stack(args.data, "train.u8", args.size)
    held_u8, held_sha, _ = load_stack(args.data, "heldout.u8", args.size)
    print(f"data: {len(train_u8)} train, {len(held_u8)} held-out, loaded in {time.time() - started:.1f}s", flush=True)
    train_gpu = torch.from_numpy(train_u8.copy()).to(device)

    config = dict(DEFAULT_CONFIG, sample_size=args.size, **json.loads(args.config))
    previous = None
    if args.resume:
        previous = json.load(open(os.path.join(args.resume, "train_log.json")))
        config = previous["config"]
    model = UNet(config).to(device)
    ema = UNet(config).to(device)
    if previous is not None:
        blob = b"".join(open(os.path.join(args.resume, p), "rb").read() for p in previous["weights"]["pieces"])
        if hashlib.sha256(blob).hexdigest() != previous["weights"]["sha256"]:
            raise SystemExit("resume weights do not match the sha256 in their train_log.json")
        model.load_state_dict(torch.load(io.BytesIO(blob), map_location=device))
        print(f"resumed from {previous['training']['steps']} steps", flush=True)
    ema.load_state_dict(model.state_dict())
    ema.eval().requires_grad_(False)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    abar = linear_alphas_cumprod().float().to(device)
    use_bf16 = device.type == "cuda"

    losses = list(previous["losses"]) if previous else []
    window = []
    first_step = previous["training"]["steps"] if previous else 0
    step = first_step
    train_started = time.time()
    model.train()
    while time.time() - train_started < args.seconds and step < args.max_steps:
        idx = torch.randint(0, train_gpu.shape[0], (args.batch,), device=device)
        x0 = to_model_range(train_gpu[idx], args.size)
        t = torch.randint(0, 1000, (args.batch,), device=device)
        noise = torch.randn_like(x0)
        a = abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
            pred = model(xt, t)
        loss = F.mse_loss(pred.float(), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for group in opt.param_groups:
            group["lr"] = args.lr * min(1.0, (step - first_step + 1) / args.warmup)
        opt.step()
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.lerp_(pm, 1 - decay)
        window.append(loss.item() if step % 10 == 0 else None)
        step += 1
        if step % 100 == 0:
            vals = [v for v in window if v is not None]
            losses.append({"step": step, "loss": float(np.mean(vals)), "seconds": round(time.time() - train_started, 1)})
            window = []
            if step % 1000 == 0:
                print(f"step {step} loss {losses[-1]['loss']:.4f} ({losses[-1]['seconds']}s)", flush=True)
    train_seconds = time.time() - train_started + (previous["training"]["seconds"] if previous else 0)
    print(f"trained {step} steps in {train_seconds:.0f}s", flush=True)

    # ---- weights in pieces ----
    buf = io.BytesIO()
    torch.save({k: v.float().cpu() for k, v in ema.state_dict().items()}, buf)
    blob = buf.getvalue()
    piece = int(args.piece_mb * 1024 * 1024)
    pieces = []
    for i in range(0, len(blob), piece):
        name = f"ema.pt.part{i // piece}"
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(blob[i:i + piece])
        pieces.append(name)

    # ---- evaluation with the EMA weights, float32 (after the weights are safe on disk) ----
    mse, inv_psnr, eval_error = {}, None, None
    try:
        ema = ema.float()
        gen = torch.Generator(device="cpu").manual_seed(1234)
        mse = {}
        with torch.no_grad():
            for split, stack in (("train", train_u8[: args.eval_images]), ("heldout", held_u8[: args.eval_images])):
                x0 = to_model_range(torch.from_numpy(stack.copy()).to(device), args.size)
                noise = torch.randn(x0.shape, generator=gen).to(device)
                for tv in (100, 500, 900):
                    a = abar[tv]
                    xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
                    pred = torch.cat([ema(xt[i:i + 64], torch.full((1,), tv, device=device)) for i in range(0, len(xt), 64)])
                    mse.setdefault(split, {})[str(tv)] = float(F.mse_loss(pred, noise))
            samples = []
            for s in range(16):
                g = torch.Generator(device="cpu").manual_seed(s)
                samples.append(torch.randn((1, 3, args.size, args.size), generator=g))
            samples = ddim_generate(ema, torch.cat(samples).to(device), abar, args.sample_steps)
            save_grid(samples, os.path.join(args.out, "samples_ddim50_seeds0-15.png"))
            held = to_model_range(torch.from_numpy(held_u8[:16].copy()).to(device), args.size)
            recon = ddim_generate(ema, ddim_invert(ema, held, abar, args.inversion_steps), abar, args.inversion_steps)
            inv_psnr = psnr(recon, held)
            save_grid(torch.cat([held[:8], recon[:8]]), os.path.join(args.out, "inversion_heldout_top_recon_bottom.png"), cols=8)

    except Exception as err:  # report, don't lose the trained weights
        eval_error = repr(err)
        print('evaluation failed:', eval_error, flush=True)

    log = {
        "config": config,
        "parameters": n_params,
        "schedule": {"beta_schedule": "linear", "beta_start": 1e-4, "beta_end": 0.02, "num_train_timesteps": 1000,
                     "prediction_type": "epsilon"},
        "training": {"seed": args.seed, "batch": args.batch, "lr": args.lr, "warmup": args.warmup, "ema": args.ema,
                     "optimizer": "AdamW(weight_decay=0), grad clip 1.0", "precision": "bf16 autocast" if use_bf16 else "fp32",
                     "steps": step, "seconds": round(train_seconds, 1),
                     "runs": (previous["training"].get("runs", [{"steps": first_step, "seconds": previous["training"]["seconds"],
                              "weights_sha256": previous["weights"]["sha256"]}]) if previous else []) +
                             [{"steps": step - first_step, "seconds": round(time.time() - train_started, 1), "resumed": bool(previous)}], "final_loss": losses[-1]["loss"] if losses else None},
        "data": {"train_count": int(len(train_u8)), "heldout_count": int(len(held_u8)), "train_sha256": train_sha,
                 "heldout_sha256": held_sha, "manifest": manifest},
        "hardware": {"device": torch.cuda.get_device_name(0) if device.type == "cuda" else platform.processor() or "cpu",
                     "torch": torch.__version__, "python": platform.python_version()},
        "eval": {"mse_eps": mse, "sample_steps": args.sample_steps, "inversion_steps": args.inversion_steps, "error": eval_error, "ddim_inversion_psnr_db": None if inv_psnr is None else {
                 "mean": float(inv_psnr.mean()), "min": float(inv_psnr.min()),
                 "per_image": [round(float(v), 2) for v in inv_psnr]}},
        "losses": losses,
        "weights": {"pieces": pieces, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)},
        "total_seconds": round(time.time() - started, 1),
    }
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(log, f, indent=1)
    print(json.dumps({k: log[k] for k in ("training", "eval")}, indent=1), flush=True)


if __name__ == "__main__":
    main()
