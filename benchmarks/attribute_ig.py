"""Integrated Gradients through `genobook.attr.attribute(method='ig')` vs captum called directly, side by side.

`attribute` is a thin layer over captum: it checks its inputs, resolves the target, batches the samples, attributes
token models at their embeddings, and always computes IG's convergence delta (two extra forward passes per batch) so
that it can warn when the attributions do not add up. This script measures what that layer costs.

Three models, randomly initialised (speed does not depend on the weights), on real inputs:
  * T-GEM, 765 genes x 10 classes (the seed's PBMC setting), `--n` cells of `pbmc68k`, target = each cell's class;
  * a DRG-style SeqCNN at L = 1000 (the ISM benchmark's model), `--n` sequences tiled from `chip_oct4_mafk` peaks;
  * a k-mer BERT (k = 3, 2 layers, d_model 64) on `--n` 200-nt ChIP peaks; captum side: `LayerIntegratedGradients` at the
    embedding layer with the `[CLS] [PAD]... [SEP]` baseline, summed over the hidden size (what `attribute` returns).
captum is called on the same batches of `--batch-size` samples with the same `n_steps` and `internal_batch_size`, so
both sides do the same arithmetic. Each case runs once per side as a warm-up, then the two sides are timed in turns,
`--repeats` times each or more for short cases (until each side has run `--min-seconds`); the best time is reported. Values are checked
equal (max |difference| relative to the largest attribution, must be < 1e-5).

Not part of any test run:  python benchmarks/attribute_ig.py [--n 16] [--device cuda] [--threads N] [--json FILE]
"""
import argparse, json
import numpy as np
import torch
from timing import paired_best


def captum_batched(algo_f, X, args, targets, bs, dev, **kw):
    "captum on the same batches as `attribute`: concatenated CPU attributions."
    outs = []
    for s in range(0, len(X), bs):
        fa = tuple(a[s:s + bs].to(dev) for a in args)
        t = None if targets is None else targets[s:s + bs].to(dev)
        outs.append(algo_f(X[s:s + bs].to(dev), fa, t, **kw).detach().cpu())
    return torch.cat(outs)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=16, help='samples per model (default 16)')
    p.add_argument('--n-steps', type=int, default=50, help='IG steps (default 50, captum and the seed default)')
    p.add_argument('--batch-size', type=int, default=16, help='samples per batch on both sides (default 16)')
    p.add_argument('--internal-batch-size', type=int, nargs=3, default=[16, 200, 400], metavar=('TGEM', 'CNN', 'BERT'),
                   help='IG rows per forward pass for each model (default 16 200 400: T-GEM keeps 15 765 x 765 attention maps per row)')
    p.add_argument('--repeats', type=int, default=3, help='timed runs per side at least, after a warm-up, in turns (default 3; best reported)')
    p.add_argument('--min-seconds', type=float, default=15., help='more runs (up to 25) until each side has run this long (default 15)')
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (default cpu)")
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from captum.attr import IntegratedGradients, LayerIntegratedGradients
    from genobook.core import set_seed
    from genobook.datasets import load_dataset
    from genobook.expr import load_expression
    from genobook.seq import one_hot
    from genobook.tokenize import KmerTokenizer
    from genobook.attr import attribute, token_baseline
    from genobook.models.tgem import TGEM, TGEMConfig
    from genobook.models.cnn import SeqCNN, CNNConfig
    from genobook.models.bert import KmerBert, BertConfig
    dev, n, bs, ns = torch.device(a.device), a.n, a.batch_size, a.n_steps
    ib_t, ib_c, ib_b = a.internal_batch_size
    set_seed(0)

    expr = load_expression(load_dataset('pbmc68k'), label='bulk_labels')
    Xe, ye = torch.as_tensor(np.asarray(expr.X[:n]), dtype=torch.float32), torch.as_tensor(np.asarray(expr.y[:n])).long()
    tgem = TGEM(TGEMConfig.from_expression(expr)).eval().to(dev)

    peaks = load_dataset('chip_oct4_mafk').seq.tolist()
    Xs = one_hot([''.join(peaks[i * 5:(i + 1) * 5]) for i in range(n)])
    cnn = SeqCNN(CNNConfig(length=1000, n_tasks=1, n_kernels=128, kernel_size=15, rc='max', pool_size=4,
                           dilations=[1, 2, 4, 8, 16], fc=[256])).eval().to(dev)

    tok = KmerTokenizer(3)
    ids, mask = tok.encode(peaks[:n], max_len=200)
    bert = KmerBert(BertConfig.from_tokenizer(tok, max_len=ids.shape[1], d_model=64, n_heads=4, n_layers=2, d_ff=128,
                                              n_classes=2)).eval().to(dev)
    tb = token_baseline(ids, mask, bert.config.start_id, bert.config.end_id, bert.config.pad_id)
    yb = torch.arange(n) % 2

    def ig(model):
        def f(x, fa, t, **kw): return IntegratedGradients(model).attribute(x, baselines=torch.zeros_like(x), target=t,
                                                                           additional_forward_args=fa or None, **kw)
        return f

    def lig_batched():
        outs = []
        for s in range(0, n, bs):
            x, m, t, b = ids[s:s + bs].to(dev), mask[s:s + bs].to(dev), yb[s:s + bs].to(dev), tb[s:s + bs].to(dev)
            r = LayerIntegratedGradients(bert, bert.bert.embeddings).attribute(
                x, baselines=b, target=t, additional_forward_args=(m,), n_steps=ns, internal_batch_size=ib_b)
            outs.append(r.sum(-1).detach().cpu())
        return torch.cat(outs)

    cases = [
        ('T-GEM, 765 genes', lambda: attribute(tgem, Xe, method='ig', target=ye, n_steps=ns, internal_batch_size=ib_t,
                                              batch_size=bs, device=dev, tolerance=1e9),
         lambda: captum_batched(ig(tgem), Xe, (), ye, bs, dev, n_steps=ns, internal_batch_size=ib_t), 'IntegratedGradients'),
        ('SeqCNN, L = 1000', lambda: attribute(cnn, Xs, method='ig', n_steps=ns, internal_batch_size=ib_c, batch_size=bs,
                                               device=dev, tolerance=1e9),
         lambda: captum_batched(ig(cnn), Xs, (), None, bs, dev, n_steps=ns, internal_batch_size=ib_c), 'IntegratedGradients'),
        ('k-mer BERT (k = 3), 200 nt', lambda: attribute(bert, ids, mask, method='ig', target=yb, n_steps=ns,
                                                        internal_batch_size=ib_b, batch_size=bs, device=dev, tolerance=1e9),
         lig_batched, 'LayerIntegratedGradients'),
    ]
    print(f"IG, {n} samples per model, n_steps {ns}, batch size {bs}, internal_batch_size {ib_t}/{ib_c}/{ib_b} (T-GEM/CNN/BERT); best of >= {a.repeats} in turns; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}\n")
    rows = []
    for name, g, c, peer in cases:
        tg, tc, runs, og, oc = paired_best(g, c, a.repeats, a.min_seconds, dev)
        diff = ((og - oc).abs().max() / oc.abs().max().clamp(min=1e-12)).item()
        rows.append(dict(model=name, peer=peer, genobook_s=tg, captum_s=tc, overhead=tg / tc - 1, rel_diff=diff, runs=runs))
        print(f"  {name}: genobook {tg:.3f} s, captum {tc:.3f} s (best of {runs} each, in turns)", flush=True)
    hdr = f"{'model':<28} {'genobook s':>11} {'captum s':>9} {'overhead':>9} {'max rel diff':>13}"
    print('\n' + hdr); print('-' * len(hdr))
    for r in rows:
        print(f"{r['model']:<28} {r['genobook_s']:>11.3f} {r['captum_s']:>9.3f} {r['overhead']:>+8.1%} {r['rel_diff']:>13.1e}")
    for r in rows: assert r['rel_diff'] < 1e-5, f"{r['model']}: attribute differs from captum by {r['rel_diff']:.2g}"
    print("\nValues equal captum's (< 1e-5 relative). overhead = genobook / captum - 1 (goal <= +10 %).")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(device=str(dev), threads=torch.get_num_threads(), n=n, n_steps=ns, rows=rows), f, indent=1)


if __name__ == '__main__': main()
