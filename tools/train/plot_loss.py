"""Loss curve of a training run (train_log.json from train.py) as a PNG for the model card."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

log = json.load(open(sys.argv[1]))
steps = [p["step"] for p in log["losses"]]
losses = [p["loss"] for p in log["losses"]]
fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
ax.plot(steps, losses, lw=1)
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("epsilon MSE (mean of every 10th step, per 100)")
ax.set_title(f"avatars64 DDPM, {log['training']['steps']} steps, batch {log['training']['batch']}, {log['hardware']['device']}")
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(sys.argv[2])
