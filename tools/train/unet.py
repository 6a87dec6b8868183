"""The bundled default model's U-Net: an epsilon-prediction DDPM U-Net in the usual family.

ResNet blocks with GroupNorm and SiLU, a sinusoidal timestep embedding added in every block, self-attention at the
lowest resolutions, and a mid block of resnet - attention - resnet. Module names follow diffusers' UNet2DModel
(conv_in, time_embedding, down_blocks.N, mid_block, up_blocks.N, conv_norm_out, conv_out) so a torch.onnx export
scopes its nodes as "/mid_block/..." and Pullback Studio's `--h auto` finds the mid-block output by name.

Plain PyTorch only (no diffusers), and nothing newer than torch 1.13 so the same file trains on the GPU machine's
torch 2.x and exports with Debian's torch 1.13 here.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "sample_size": 64,
    "in_channels": 3,
    "out_channels": 3,
    "block_out_channels": [64, 128, 128, 128],
    "layers_per_block": 2,
    "attention_resolutions": [16, 8],
    "attention_heads": 4,
    "norm_num_groups": 32,
    "norm_eps": 1e-6,
    "time_embed_dim": 256,
    "dropout": 0.0,
}


def timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding (flip_sin_to_cos=True, shift 0): [cos | sin] of t * 10000^(-i/half)."""
    half = dim // 2
    exponent = -math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=timesteps.device) / half
    args = timesteps.float()[:, None] * torch.exp(exponent)[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TimestepEmbedding(nn.Module):
    def __init__(self, in_dim: int, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, dim)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(self.act(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, temb_dim: int, groups: int, eps: float, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch, eps=eps)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_dim, out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.nonlinearity = nn.SiLU()
        self.conv_shortcut = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x, temb):
        h = self.conv1(self.nonlinearity(self.norm1(x)))
        h = h + self.time_emb_proj(self.nonlinearity(temb))[:, :, None, None]
        h = self.conv2(self.dropout(self.nonlinearity(self.norm2(h))))
        skip = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return skip + h


class Attention(nn.Module):
    """Multi-head self-attention over the H*W positions, [B, heads, L, d] layout (as torch 2 SDPA exports)."""

    def __init__(self, ch: int, heads: int, groups: int, eps: float):
        super().__init__()
        self.heads = heads
        self.group_norm = nn.GroupNorm(groups, ch, eps=eps)
        self.to_q = nn.Linear(ch, ch)
        self.to_k = nn.Linear(ch, ch)
        self.to_v = nn.Linear(ch, ch)
        self.to_out = nn.Linear(ch, ch)

    def forward(self, x):
        b, c, hgt, wid = x.shape
        d = c // self.heads
        h = self.group_norm(x).reshape(b, c, hgt * wid).transpose(1, 2)  # [B, L, C]
        q = self.to_q(h).reshape(b, hgt * wid, self.heads, d).transpose(1, 2)  # [B, heads, L, d]
        k = self.to_k(h).reshape(b, hgt * wid, self.heads, d).transpose(1, 2)
        v = self.to_v(h).reshape(b, hgt * wid, self.heads, d).transpose(1, 2)
        weights = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d)), dim=-1)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(b, hgt * wid, c)
        out = self.to_out(out).transpose(1, 2).reshape(b, c, hgt, wid)
        return x + out


class Downsample2D(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, in_ch, out_ch, n_layers, temb_dim, attn, heads, groups, eps, dropout, downsample):
        super().__init__()
        self.resnets = nn.ModuleList(
            [ResnetBlock2D(in_ch if i == 0 else out_ch, out_ch, temb_dim, groups, eps, dropout) for i in range(n_layers)]
        )
        self.attentions = nn.ModuleList([Attention(out_ch, heads, groups, eps) for _ in range(n_layers)]) if attn else None
        self.downsamplers = nn.ModuleList([Downsample2D(out_ch)]) if downsample else None

    def forward(self, x, temb):
        skips = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class MidBlock(nn.Module):
    def __init__(self, ch, temb_dim, heads, groups, eps, dropout):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, temb_dim, groups, eps, dropout) for _ in range(2)])
        self.attentions = nn.ModuleList([Attention(ch, heads, groups, eps)])

    def forward(self, x, temb):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x)
        return self.resnets[1](x, temb)


class UpBlock(nn.Module):
    def __init__(self, in_ch, out_ch, skip_chs, temb_dim, attn, heads, groups, eps, dropout, upsample):
        super().__init__()
        self.resnets = nn.ModuleList()
        for i, skip_ch in enumerate(skip_chs):
            self.resnets.append(ResnetBlock2D((in_ch if i == 0 else out_ch) + skip_ch, out_ch, temb_dim, groups, eps, dropout))
        self.attentions = nn.ModuleList([Attention(out_ch, heads, groups, eps) for _ in skip_chs]) if attn else None
        self.upsamplers = nn.ModuleList([Upsample2D(out_ch)]) if upsample else None

    def forward(self, x, skips, temb):
        for i, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[i](x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class UNet(nn.Module):
    def __init__(self, config: dict = None):
        super().__init__()
        cfg = dict(DEFAULT_CONFIG, **(config or {}))
        self.config = cfg
        chs = cfg["block_out_channels"]
        n = cfg["layers_per_block"]
        g, eps, drop, heads = cfg["norm_num_groups"], cfg["norm_eps"], cfg["dropout"], cfg["attention_heads"]
        tdim = cfg["time_embed_dim"]
        self.base_channels = chs[0]
        self.conv_in = nn.Conv2d(cfg["in_channels"], chs[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(chs[0], tdim)

        res = cfg["sample_size"]
        self.down_blocks = nn.ModuleList()
        skip_chs = [chs[0]]
        prev = chs[0]
        for level, ch in enumerate(chs):
            last = level == len(chs) - 1
            self.down_blocks.append(
                DownBlock(prev, ch, n, tdim, res in cfg["attention_resolutions"], heads, g, eps, drop, not last)
            )
            skip_chs += [ch] * n + ([] if last else [ch])
            prev = ch
            if not last:
                res //= 2
        self.mid_block = MidBlock(prev, tdim, heads, g, eps, drop)

        self.up_blocks = nn.ModuleList()
        for level, ch in enumerate(reversed(chs)):
            last = level == len(chs) - 1
            block_skips = [skip_chs.pop() for _ in range(n + 1)]
            self.up_blocks.append(
                UpBlock(prev, ch, block_skips, tdim, res in cfg["attention_resolutions"], heads, g, eps, drop, not last)
            )
            prev = ch
            if not last:
                res *= 2
        self.conv_norm_out = nn.GroupNorm(g, chs[0], eps=eps)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(chs[0], cfg["out_channels"], 3, padding=1)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        # timestep: int64 or float, rank 0 or [1] or [B]; broadcast to the batch.
        t = timestep.reshape(-1).float().expand(sample.shape[0])
        temb = self.time_embedding(timestep_embedding(t, self.base_channels))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x, block_skips = block(x, temb)
            skips += block_skips
        x = self.mid_block(x, temb)
        for block in self.up_blocks:
            x = block(x, skips, temb)
        return self.conv_out(self.conv_act(self.conv_norm_out(x)))


def linear_alphas_cumprod(steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, dim=0)


if __name__ == "__main__":
    m = UNet()
    print("parameters:", sum(p.numel() for p in m.parameters()))
    x = torch.randn(2, 3, 64, 64)
    print(m(x, torch.tensor([10])).shape)
