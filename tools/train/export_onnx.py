"""Export a training run (train.py) to the diffusers-layout ONNX folder Pullback Studio ships as its default model.

  /usr/bin/python3 tools/train/export_onnx.py --run runs/avatars64 --out resources/models/avatars64

Writes model_index.json (DDPMPipeline), scheduler/scheduler_config.json, unet/model.onnx (opset 14, inputs
`sample` [B,3,S,S] float32 and `timestep` int64 [1], output `out_sample`; weights inline), unet/config.json, and
reference tensors for the ONNX-vs-PyTorch test under test/fixtures/bundled-model-ref/ (the same inputs and the
PyTorch float32 outputs, so the TypeScript test checks ORT against PyTorch without Python at test time).
Runs with Debian's torch 1.13, whose exporter writes GroupNorm as Reshape + InstanceNormalization.
"""
import argparse
import hashlib
import io
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import UNet  # noqa: E402


def save_npy(path, arr):
    np.save(path, np.ascontiguousarray(arr, dtype=np.float32))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--run", default="runs/avatars64")
    p.add_argument("--out", default="resources/models/avatars64")
    p.add_argument("--ref-out", default="test/fixtures/bundled-model-ref")
    p.add_argument("--opset", type=int, default=14)
    args = p.parse_args()

    log = json.load(open(os.path.join(args.run, "train_log.json")))
    blob = b"".join(open(os.path.join(args.run, piece), "rb").read() for piece in log["weights"]["pieces"])
    if hashlib.sha256(blob).hexdigest() != log["weights"]["sha256"]:
        raise SystemExit("weights pieces do not match train_log.json's sha256: incomplete transfer?")
    model = UNet(log["config"])
    model.load_state_dict(torch.load(io.BytesIO(blob), map_location="cpu"))
    model.eval()
    size = log["config"]["sample_size"]
    channels = log["config"]["in_channels"]

    os.makedirs(os.path.join(args.out, "unet"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "scheduler"), exist_ok=True)
    onnx_path = os.path.join(args.out, "unet", "model.onnx")
    example = (torch.zeros(1, channels, size, size), torch.tensor([500], dtype=torch.int64))
    torch.onnx.export(
        model, example, onnx_path, opset_version=args.opset, do_constant_folding=True,
        input_names=["sample", "timestep"], output_names=["out_sample"],
        dynamic_axes={"sample": {0: "batch"}, "out_sample": {0: "batch"}},
    )
    import onnx

    onnx.checker.check_model(onnx.load(onnx_path))

    sched = log["schedule"]
    json.dump({"_class_name": "DDPMPipeline", "_diffusers_version": "0.30.0",
               "scheduler": ["diffusers", "DDPMScheduler"], "unet": ["diffusers", "UNet2DModel"]},
              open(os.path.join(args.out, "model_index.json"), "w"), indent=2)
    json.dump({"_class_name": "DDPMScheduler", "_diffusers_version": "0.30.0",
               "num_train_timesteps": sched["num_train_timesteps"], "beta_start": sched["beta_start"],
               "beta_end": sched["beta_end"], "beta_schedule": sched["beta_schedule"],
               "prediction_type": sched["prediction_type"], "variance_type": "fixed_small",
               # The model is short-trained: without clamping x0-hat to [-1, 1], DDIM drifts to saturated colours.
               "clip_sample": True, "clip_sample_range": 1.0},
              open(os.path.join(args.out, "scheduler", "scheduler_config.json"), "w"), indent=2)
    cfg = log["config"]
    json.dump({"_class_name": "UNet2DModel", "sample_size": size, "in_channels": channels,
               "out_channels": cfg["out_channels"], "block_out_channels": cfg["block_out_channels"],
               "layers_per_block": cfg["layers_per_block"], "attention_resolutions": cfg["attention_resolutions"],
               "attention_heads": cfg["attention_heads"], "norm_num_groups": cfg["norm_num_groups"],
               "norm_eps": cfg["norm_eps"], "time_embed_dim": cfg["time_embed_dim"],
               "parameters": log["parameters"], "source": "tools/train/unet.py"},
              open(os.path.join(args.out, "unet", "config.json"), "w"), indent=2)

    # Reference outputs: PyTorch float32 on fixed inputs, batch 1 and batch 2, three timesteps.
    os.makedirs(args.ref_out, exist_ok=True)
    gen = torch.Generator().manual_seed(7)
    x = torch.randn((2, channels, size, size), generator=gen)
    save_npy(os.path.join(args.ref_out, "x.npy"), x.numpy())
    ref = {"timesteps": [], "files": {}}
    with torch.no_grad():
        for t in (10, 500, 990):
            out = model(x, torch.tensor([t], dtype=torch.int64)).numpy()
            name = f"eps_t{t}.npy"
            save_npy(os.path.join(args.ref_out, name), out)
            ref["timesteps"].append(t)
            ref["files"][str(t)] = name
    ref["model_sha256"] = hashlib.sha256(open(onnx_path, "rb").read()).hexdigest()
    ref["torch"] = torch.__version__
    json.dump(ref, open(os.path.join(args.ref_out, "meta.json"), "w"), indent=2)
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.1f} MB), refs in {args.ref_out}")


if __name__ == "__main__":
    main()
