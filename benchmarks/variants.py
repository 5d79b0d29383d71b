"""Variant effect speed: genobook's `score_variants` vs tangermeme's `substitution_effect` / `deletion_effect` /
`insertion_effect`, on the same model and the same variants, in one run, values asserted equal.

Genome: the E. coli K-12 MG1655 genome (`genobook.datasets.load_dataset('ecoli_mg1655')`, 4.6 Mb). Variants: `--n`
of each kind at seeded random positions of it, their REF read from the genome (the positions and ALT alleles are
drawn, not observed variants): SNVs, deletions of 1-5 bases after a shared first base, insertions of 1-5 bases after
it, as a VCF writes them. Model: a DRG-style `genobook.models.cnn.SeqCNN` at `--length` nt (128 kernels of width
15 on both strands, batch norm, max pooling by 4, dilated residual tower d = 1, 2, 4, 8, 16, flatten, FC 256, one
output); the speed does not depend on the weights, so it is randomly initialised.

The mixed set's SNVs alone are a second case (most variants of a real VCF are SNVs: genobook predicts an SNV's
alternative window as a substitution of its reference, `genobook.ism.substitution_predictions`, which for a CNN
walks only the changed activations). A third case, `--saturation` sites (default n / 2) with all three SNVs at each
(a saturation mutagenesis, or multi-allelic records split one allele per row as `read_vcf` does): tangermeme's substitution_effect takes one
substitution per (example, position), so, as its docstring says, each allele gets its own copy of the window and
its reference is predicted three times (6 forward windows per site); genobook predicts the reference window once
and each SNV as an edit of it (1 forward window and 3 walked edits per site).

Timed, in turns after one warm-up call of each (best of `--repeats`, more until `--min-seconds`):
  * genobook  score_variants(model, variants, genome, window=L)  end to end: windows cut from the genome, REF checked,
              one-hot encoded per batch, ref and alt predicted in one forward pass per batch, effects table built
  * tangermeme substitution_effect + deletion_effect(left=False) + insertion_effect(left=False) on the one-hot
              windows (L + the longest deletion for deletions), built beforehand and not timed: tangermeme reads
              no genome, so its timing leaves out the window extraction genobook's includes
Both run the same number of sequences per forward pass (`--batch-size`; genobook's batch_size counts variants, each
bringing its ref and alt window, so it gets half). Every ref and alt prediction of genobook is checked against
tangermeme's y_before / y_after (max |difference| printed, must be < 1e-4 relative).

Not part of any test run:  python benchmarks/variants.py [--n 1000] [--saturation 500] [--length 1000] [--device cuda] [--threads N] [--json FILE]
"""
import argparse, json
import numpy as np
import pandas as pd
import torch
from timing import paired_best


def make_variants(genome, n:int, L:int, seed:int=0)->pd.DataFrame:
    "n SNVs, n deletions and n insertions (1-5 bases) at random positions at least L from the ends, REF from the genome."
    rng = np.random.default_rng(seed)
    chrom = list(genome.lengths)[0]
    seq = genome.fetch(chrom, 0, genome.lengths[chrom])
    pos = np.sort(rng.choice(np.arange(L, len(seq) - L), 3 * n, replace=False))
    kinds = rng.permutation(np.repeat(['snv', 'del', 'ins'], n))
    rows = []
    for p0, k in zip(pos.tolist(), kinds):
        m = int(rng.integers(1, 6))
        if k == 'snv': ref = seq[p0]; alt = rng.choice([b for b in 'ACGT' if b != ref])
        elif k == 'del': ref, alt = seq[p0:p0 + 1 + m], seq[p0]
        else: ref, alt = seq[p0], seq[p0] + ''.join(rng.choice(list('ACGT'), m))
        rows.append((chrom, p0 + 1, f'{k}{len(rows)}', ref, str(alt), k))
    return pd.DataFrame(rows, columns=['chrom', 'pos', 'id', 'ref', 'alt', 'kind'])


def make_saturation(genome, n:int, L:int, seed:int=1)->pd.DataFrame:
    "All three SNVs at each of n random sites at least L from the ends, REF from the genome."
    rng = np.random.default_rng(seed)
    chrom = list(genome.lengths)[0]
    seq = genome.fetch(chrom, 0, genome.lengths[chrom])
    rows = [(chrom, p0 + 1, f'sat{p0}{b}', seq[p0], b, 'snv') for p0 in np.sort(rng.choice(np.arange(L, len(seq) - L), n, replace=False)).tolist()
            for b in 'ACGT' if b != seq[p0]]
    return pd.DataFrame(rows, columns=['chrom', 'pos', 'id', 'ref', 'alt', 'kind'])


def tangermeme_inputs(genome, v:pd.DataFrame, L:int):
    "One-hot windows and tangermeme's substitution / deletion / insertion tensors for each kind of variant."
    from genobook.seq import one_hot
    idx = {'A': 0, 'C': 1, 'G': 2, 'T': 3}
    c, chrom = L // 2, v.chrom.iloc[0]
    seq = genome.fetch(chrom, 0, genome.lengths[chrom])
    out = {}
    snv = v[v.kind == 'snv']
    out['snv'] = (snv.index, one_hot([seq[p - 1 - c:p - 1 - c + L] for p in snv.pos]),
                  torch.tensor([[i, c, idx[a]] for i, a in enumerate(snv.alt)]))
    dl = v[v.kind == 'del']
    D = int((dl.ref.str.len() - 1).max())
    out['del'] = (dl.index, one_hot([seq[p - 1 - c:p - 1 - c + L + D] for p in dl.pos]),
                  torch.tensor([[i, c + 1 + j] for i, r in enumerate(dl.ref) for j in range(len(r) - 1)]))
    ins = v[v.kind == 'ins']
    out['ins'] = (ins.index, one_hot([seq[p - 1 - c:p - 1 - c + L] for p in ins.pos]),
                  torch.tensor([[i, c + 1, idx[b]] for i, a in enumerate(ins.alt) for b in a[1:][::-1]]))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=1000, help='variants of each kind: SNVs, deletions, insertions (default 1000)')
    p.add_argument('--saturation', type=int, default=None, help='sites of the saturation case, 3 SNVs each (default n / 2; 0: skip it)')
    p.add_argument('--length', type=int, default=1000, help='window length in nt (default 1000)')
    p.add_argument('--batch-size', type=int, default=256, help='sequences per forward pass, for both tools (default 256)')
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (default cpu)")
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--repeats', type=int, default=2, help='timed runs each at least, best reported (default 2)')
    p.add_argument('--min-seconds', type=float, default=10., help='more runs (up to 25) until each side has run this long (default 10)')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from genobook.core import set_seed
    from genobook.datasets import load_dataset
    from genobook.models.cnn import SeqCNN, CNNConfig
    from genobook.variants import score_variants
    from genobook.seq import one_hot
    from tangermeme.variant_effect import substitution_effect, deletion_effect, insertion_effect
    dev, L, bs = torch.device(a.device), a.length, a.batch_size

    genome = load_dataset('ecoli_mg1655')
    v = make_variants(genome, a.n, L)
    tm = tangermeme_inputs(genome, v, L)
    set_seed(0)
    cfg = CNNConfig(length=L, n_tasks=1, n_kernels=128, kernel_size=15, rc='max', pool_size=4, dilations=[1, 2, 4, 8, 16], fc=[256])
    model = SeqCNN(cfg).eval()
    N = len(v)
    print(f"SeqCNN {cfg.n_kernels} kernels, rc={cfg.rc!r}, dilations {cfg.dilations}, L = {L} nt; {N:,} variants on E. coli "
          f"MG1655 ({a.n} SNVs, {a.n} deletions, {a.n} insertions of 1-5 bases); {bs} sequences per forward pass; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}\n", flush=True)

    def compare(v, tm, what):
        "Time genobook and tangermeme on one variant table, check equal predictions, print a row; the result dict."
        def genobook_run():
            return score_variants(model, v, genome, window=L, batch_size=bs // 2, device=dev)
        def tangermeme_run():
            kw = dict(batch_size=bs, device=dev, verbose=False)
            fns = {'snv': substitution_effect, 'del': lambda m, X, d, **k: deletion_effect(m, X, d, left=False, **k),
                   'ins': lambda m, X, d, **k: insertion_effect(m, X, d, left=False, **k)}
            return {k: fns[k](model, X, sub, **kw) for k, (_, X, sub) in tm.items()}
        tg, tt, runs, g, t = paired_best(genobook_run, tangermeme_run, a.repeats, a.min_seconds, dev)
        diffs = {}
        for k, (rows, _, _) in tm.items():
            for col, y in (('ref_task0', t[k].y_before), ('alt_task0', t[k].y_after)):
                diffs[(k, col)] = float(np.abs(g.loc[rows, col].to_numpy(float) - y[:, 0].double().cpu().numpy()).max())
        scale = float(np.abs(g[['ref_task0', 'alt_task0']].to_numpy(float)).max())
        worst = max(diffs.values())
        assert worst <= 1e-4 * max(scale, 1), f"{what}: genobook's predictions differ from tangermeme's by {worst:.3g}"
        n = len(v)
        print(f"{what:<34} {n:>8,} {tg:>8.2f}s {n / tg:>11,.0f} {tt:>8.2f}s {n / tt:>11,.0f} {tt / tg:>7.2f}x {runs:>5} {worst:>9.1e}", flush=True)
        return {'n_variants': n, 'genobook_s': tg, 'tangermeme_s': tt, 'genobook_variants_per_s': n / tg,
                'tangermeme_variants_per_s': n / tt, 'speedup': tt / tg, 'max_abs_diff': worst, 'runs': runs}

    print(f"{'case':<34} {'variants':>8} {'genobook':>9} {'variants/s':>11} {'tangermeme':>9} {'variants/s':>11} {'speed-up':>8} "
          f"{'runs':>5} {'max diff':>9}")
    print('-' * 112)
    res = {'mixed': compare(v, tm, 'SNVs, deletions, insertions'),
           'snv': compare(v[v.kind == 'snv'], {'snv': tm['snv']}, 'SNVs of the mixed set only')}
    ns = a.n // 2 if a.saturation is None else a.saturation
    if ns:
        sat = make_saturation(genome, ns, L)
        seq = genome.fetch(sat.chrom.iloc[0], 0, genome.lengths[sat.chrom.iloc[0]])
        c, idx = L // 2, {'A': 0, 'C': 1, 'G': 2, 'T': 3}
        X = one_hot([seq[p - 1 - c:p - 1 - c + L] for p in sat.pos])     # one copy of the window per allele (tangermeme's rule)
        tms = {'snv': (sat.index, X, torch.tensor([[i, c, idx[b]] for i, b in enumerate(sat.alt)]))}
        res['saturation'] = compare(sat, tms, f'saturation ({ns:,} sites x 3 SNVs)')
    print("\ngenobook: score_variants end to end (genome -> effects table); tangermeme: its effect functions on one-hot windows "
          "built beforehand (untimed).\nspeed-up = tangermeme / genobook (goal >= 1x); best of `runs` runs each, timed in turns. "
          "max diff: largest |genobook - tangermeme| over\nref and alt predictions (asserted <= 1e-4 relative).")
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'length': L, 'batch_size': bs, 'device': str(dev), 'threads': torch.get_num_threads(), **res}, f, indent=2)


if __name__ == '__main__':
    main()
