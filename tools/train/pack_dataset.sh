#!/usr/bin/env bash
# Pack the rendered avatar stacks for a GPU lease: xz shrinks the flat-colour uint8 stacks ~20× (245 MB → 13 MB),
# well under the lease's 64 MiB transfer limit. Output goes to device-carry/ (git-ignored), which the lease carries.
#   npx tsx tools/dataset/generate.ts && bash tools/train/pack_dataset.sh [.data/avatars64]
set -euo pipefail
src="${1:-.data/avatars64}"
dst="device-carry/$(basename "$src")"
mkdir -p "$dst"
cp "$src/manifest.json" "$dst/"
xz -T0 -9 -c "$src/train.u8" > "$dst/train.u8.xz"
xz -9 -c "$src/heldout.u8" > "$dst/heldout.u8.xz"
ls -la "$dst"
