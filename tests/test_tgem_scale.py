"""T-GEM's streaming attention equals the exact inspect path at the seed's cohort size (1,708 genes), on 2 samples."""
import torch
from genobook.models.tgem import TGEM, TGEMConfig


def _grads(model, x, inspect):
    "Logits and gradients w.r.t. the input and every parameter, fast path or inspect path (attn_scale=1 on every layer)."
    x = x.clone().requires_grad_(True); model.zero_grad()
    out = model(x, attn_scale=[1.] * model.config.n_layers) if inspect else model(x)
    (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum().backward()
    return [out.detach(), x.grad] + [p.grad.clone() for p in model.parameters()]


def test_fast_path_equals_inspect_path_at_1708_genes():
    torch.manual_seed(0)
    model = TGEM(TGEMConfig(1708, 34)).double().eval()
    with torch.no_grad():                                     # weights wider than at initialisation: peaked attention
        for layer in model.layers:
            for p in (layer.WQ, layer.WK, layer.WV): p.normal_(0, 0.3)
            layer.W0.normal_(0, 1)
    x = torch.randn(2, 1708, dtype=torch.float64)
    fast, ref = _grads(model, x, False), _grads(model, x, True)
    for f, r in zip(fast, ref):
        assert ((f - r).abs().max() / r.abs().max()).item() < 1e-10
