#!/usr/bin/env bash
# The one prepared command for a GPU lease: train, evaluate and bring back the EMA weights in pieces.
# Expects the packed dataset (tools/dataset/generate.ts, then xz) under device-carry/avatars64/ and $OUT set.
# Files back (at most 8, 16 MiB each): ema.pt.part*, train_log.json, two PNG grids, loss_curve.png.
set -euo pipefail
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
export PYTHONUNBUFFERED=1
python3 tools/train/train.py --data device-carry/avatars64 --out "$OUT" ${TRAIN_RESUME:+--resume "$TRAIN_RESUME"} \
  --seconds "${TRAIN_SECONDS:-450}" --batch "${TRAIN_BATCH:-256}" --lr "${TRAIN_LR:-3e-4}" --warmup 300
python3 tools/train/plot_loss.py "$OUT/train_log.json" "$OUT/loss_curve.png" || echo "loss plot failed (weights are safe)"
ls -la "$OUT"
