"""T-GEM training throughput (samples/s) on PBMC, through genobook's fastai learner and a bare PyTorch loop, side by side.

The model is `genobook.models.tgem.TGEM` with the seed's configuration (5 heads, 3 layers, dropout 0.3, no activation)
on all 765 genes of `pbmc68k` (10 cell types), trained at lr 1e-4 (the seed's) with Adam (fastai's, the learner's default; torch's in the plain loop) on the training
rows of the seed's stratified split (seed 52). For each batch size:
  * genobook: `learner(expr_dls(...), model, quiet=True).fit(epochs)`: fastai's loop with genobook's loss, metrics
    (computed on the validation rows each epoch, as in training) and best-epoch tracking;
  * plain:    a hand-written loop (zero_grad, forward, NLL loss, backward, step) over the same tensors, no validation.
The first epoch of each is a warm-up and not counted; samples/s = training rows x timed epochs / time. The plain
loop is the ceiling: the difference is what fastai and the per-epoch validation cost.

Not part of any test run:  python benchmarks/tgem_train.py [--batch-sizes 16 64] [--epochs 3] [--device cuda] [--json FILE]
"""
import argparse, json, time
import numpy as np
import torch
import torch.nn.functional as F


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batch-sizes', type=int, nargs='+', default=[16, 64], help='batch sizes (default 16 (the seed) 64)')
    p.add_argument('--epochs', type=int, default=3, help='timed epochs per case, after one warm-up epoch (default 3)')
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (default cpu)")
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from genobook.core import set_seed
    from genobook.datasets import load_dataset
    from genobook.expr import load_expression
    from genobook.split import stratified_split
    from genobook.data import expr_dls
    from genobook.train import learner
    from genobook.models.tgem import TGEM, TGEMConfig
    dev = torch.device(a.device)
    expr = load_expression(load_dataset('pbmc68k'), label='bulk_labels')
    sp = stratified_split(expr.y, seed=52)
    X, y = torch.as_tensor(np.asarray(expr.X), dtype=torch.float32), torch.as_tensor(np.asarray(expr.y)).long()
    cfg = TGEMConfig.from_expression(expr)
    n_train = len(sp.train)
    print(f"T-GEM {cfg.n_genes} genes x {cfg.n_classes} classes, {cfg.n_heads} heads, {cfg.n_layers} layers; "
          f"{n_train} training cells; Adam lr 1e-4; {a.epochs} timed epochs after 1 warm-up; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {dev}\n")
    rows = []
    for bs in a.batch_sizes:
        set_seed(0)
        learn = learner(expr_dls(X, y, sp, bs=bs, device=dev, seed=0), TGEM(cfg), quiet=True, save_best=False)
        learn.fit(1, lr=1e-4)
        sync(dev); t0 = time.perf_counter(); learn.fit(a.epochs, lr=1e-4); sync(dev)
        t_fastai = time.perf_counter() - t0

        set_seed(0)
        model = TGEM(cfg).to(dev).train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        Xt, yt = X[sp.train].to(dev), y[sp.train].to(dev)
        g = torch.Generator().manual_seed(0)

        def epoch():
            for idx in torch.randperm(n_train, generator=g).split(bs):
                idx = idx.to(dev)
                opt.zero_grad()
                loss = F.nll_loss(model(Xt[idx]), yt[idx])
                loss.backward(); opt.step()
        epoch()
        sync(dev); t0 = time.perf_counter()
        for _ in range(a.epochs): epoch()
        sync(dev); t_plain = time.perf_counter() - t0
        n = n_train * a.epochs
        rows.append(dict(batch_size=bs, genobook_samples_s=n / t_fastai, plain_samples_s=n / t_plain))
        print(f"  batch {bs}: genobook learner {n / t_fastai:.0f} samples/s, plain loop {n / t_plain:.0f} samples/s", flush=True)

    hdr = f"{'batch':>5} {'genobook learner (samples/s)':>29} {'plain loop (samples/s)':>23} {'ratio':>6}"
    print('\n' + hdr); print('-' * len(hdr))
    for r in rows:
        print(f"{r['batch_size']:>5} {r['genobook_samples_s']:>29.0f} {r['plain_samples_s']:>23.0f} "
              f"{r['genobook_samples_s'] / r['plain_samples_s']:>6.2f}")
    print("\nThe learner's epochs include validation on the validation rows; the plain loop's do not.")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(device=str(dev), threads=torch.get_num_threads(), rows=rows), f, indent=1)


if __name__ == '__main__': main()
