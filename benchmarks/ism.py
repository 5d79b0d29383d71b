"""In-silico mutagenesis speed: genobook's fast ISM, exact ISM and TISM vs `tangermeme.saturation_mutagenesis`, side by side.

The model is a DRG-style `genobook.models.cnn.SeqCNN` at L = 1000 nt: 128 first-layer kernels of width 15 on both
strands (rc='max'), batch norm, max pooling by 4, the dilated residual tower (d = 1, 2, 4, 8, 16), flatten, FC 256,
one output. Inputs are real bases: the 200-nt Oct4/MafK ChIP-seq peaks of
`genobook.datasets.load_dataset('chip_oct4_mafk')` laid end to end, five per 1000-nt sequence.

Timed on the same `--n` sequences (all 3 x L substitutions), best of `--repeats` runs each
(more for a fast method, until it has run `--min-seconds` in all, so that a slow spell of a shared machine does not
decide a short time):
  * genobook  ism(fast=True)    fastISM-style: only the receptive window of each substitution is recomputed
  * genobook  ism(fast=False)   every mutant through the whole model
  * tangermeme saturation_mutagenesis(raw_outputs=True, fast=False)   the peer's plain path
  * tangermeme saturation_mutagenesis(raw_outputs=True)  its default (fast=True: its own torch.export fast path, tried
              only when the plain job would take more than 30 s; it falls back with a warning otherwise)
  * genobook  tism              one forward + one backward per sequence
Every ISM result is checked against tangermeme's plain one (max |difference| printed, must be < 1e-4 relative).

The speed of ISM does not depend on the weights, so the timed model is randomly initialised. TISM's accuracy does:
its Pearson correlation with exact ISM is measured on a SeqCNN trained in this script (chip_oct4_mafk, 200 nt,
`--train-peaks` training peaks, 2 epochs), on `--n` Oct4 test peaks.

Not part of any test run:  python benchmarks/ism.py --n 4 [--length 1000] [--device cuda] [--threads N] [--json FILE]
"""
import argparse, json, warnings
import numpy as np
import torch
from timing import timed, best_of


def trained_model(train_peaks, seed=52):
    "A small SeqCNN trained on the Oct4/MafK peaks; (model, X, y, test rows)."
    from genobook.core import set_seed
    from genobook.datasets import load_dataset
    from genobook.seq import one_hot
    from genobook.split import Split
    from genobook.data import seq_dls
    from genobook.train import learner
    from genobook.models.cnn import SeqCNN, CNNConfig
    chip = load_dataset('chip_oct4_mafk')
    X = one_hot(chip.seq.tolist())
    y = torch.tensor((chip.label == 'Oct4').to_numpy(), dtype=torch.float32)
    train = np.flatnonzero(chip.split == 'train'); test = np.flatnonzero(chip.split == 'test')
    perm = np.random.default_rng(seed).permutation(train)
    set_seed(seed)
    dls = seq_dls(X, y, Split(np.sort(perm[:train_peaks]), np.sort(perm[train_peaks:train_peaks + 300]), test), bs=64, rc=True, seed=seed, device='cpu')
    learn = learner(dls, SeqCNN(CNNConfig(length=200, n_kernels=64, rc='max', dilations=[1, 2, 4, 8], fc=[64])), task='binary', quiet=True)
    learn.fit_one_cycle(2, lr_max=5e-3)
    oct4 = test[(chip.label.iloc[test] == 'Oct4').to_numpy()]
    return learn.model.eval(), X, oct4


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=4, help='sequences to mutate (default 4)')
    p.add_argument('--length', type=int, default=1000, help='sequence length in nt (default 1000)')
    p.add_argument('--batch-size', type=int, default=256, help='mutants per forward pass, for every method (default 256)')
    p.add_argument('--train-peaks', type=int, default=3000, help='training peaks of the model TISM is scored on (default 3000)')
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (default cpu)")
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--repeats', type=int, default=2, help='timed runs per method at least, best reported (default 2)')
    p.add_argument('--min-seconds', type=float, default=10., help='more runs (up to 25) until a method has run this long in all (default 10)')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from genobook.core import set_seed
    from genobook.datasets import load_dataset
    from genobook.seq import one_hot
    from genobook.models.cnn import SeqCNN, CNNConfig
    from genobook.ism import ism, tism, ism_effects
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis
    dev, L, bs = torch.device(a.device), a.length, a.batch_size

    peaks = load_dataset('chip_oct4_mafk').seq.tolist()
    k = -(-L // len(peaks[0]))
    X = one_hot([''.join(peaks[i * k:(i + 1) * k])[:L] for i in range(a.n)])
    set_seed(0)
    cfg = CNNConfig(length=L, n_tasks=1, n_kernels=128, kernel_size=15, rc='max', pool_size=4, dilations=[1, 2, 4, 8, 16], fc=[256])
    model = SeqCNN(cfg).eval()
    print(f"SeqCNN {cfg.n_kernels} kernels, rc={cfg.rc!r}, dilations {cfg.dilations}, receptive field {model.receptive_field} nt; "
          f"{a.n} sequences x {L} nt = {3 * L * a.n:,} substitutions; batch size {bs}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {dev}\n")

    rows, ref = [], None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        cases = [('tangermeme saturation_mutagenesis(fast=False)', lambda: saturation_mutagenesis(model, X, batch_size=bs, raw_outputs=True, fast=False, device=dev).y_hat),
                 ('tangermeme saturation_mutagenesis (default fast=True)', lambda: saturation_mutagenesis(model, X, batch_size=bs, raw_outputs=True, device=dev).y_hat),
                 ('genobook ism(fast=False)', lambda: ism(model, X, fast=False, batch_size=bs, device=dev)),
                 ('genobook ism(fast=True)', lambda: ism(model, X, fast=True, batch_size=bs, device=dev)),
                 ('genobook tism', lambda: tism(model, X, batch_size=max(1, bs // 32), device=dev))]
        # warm-up: one call of each on a 5-base window of one sequence (allocations, oneDNN kernel choice, vmap set-up)
        saturation_mutagenesis(model, X[:1], start=0, end=5, batch_size=bs, fast=False, device=dev)
        ism(model, X[:1], end=5, fast=False, batch_size=bs, device=dev); ism(model, X[:1], end=5, batch_size=bs, device=dev)
        tism(model, X[:1], end=5, device=dev)
        for name, f in cases:
            t, out, runs = best_of(f, dev, a.repeats, a.min_seconds)
            out = out.reshape(a.n, 4, L, -1).float().cpu()
            if ref is None: ref = out
            rows.append((name, t, (out - ref).abs().max().item()))
            print(f"  {name}: {t:.2f} s (best of {runs})", flush=True)
    tm_warn = [str(w.message) for w in caught if 'saturation_mutagenesis' in str(w.message)]

    t = {name: s for name, s, _ in rows}
    scale = ref.abs().max().item()
    print(f"\n{'method':<55} {'time':>9} {'vs tangermeme plain':>20} {'max |diff| vs tangermeme':>25}   (TISM: an approximation)")
    print('-' * 112)
    for name, s, d in rows:
        print(f"{name:<55} {s:>8.2f}s {t['tangermeme saturation_mutagenesis(fast=False)'] / s:>19.1f}x {d:>25.2e}")
    g_fast, g_exact, g_tism = t['genobook ism(fast=True)'], t['genobook ism(fast=False)'], t['genobook tism']
    print(f"\nfast ISM vs tangermeme plain: {t['tangermeme saturation_mutagenesis(fast=False)'] / g_fast:.1f}x faster (goal >= 10x); "
          f"vs tangermeme default: {t['tangermeme saturation_mutagenesis (default fast=True)'] / g_fast:.1f}x")
    print(f"fast ISM vs genobook exact ISM: {g_exact / g_fast:.1f}x faster")
    print(f"TISM vs exact ISM: {g_exact / g_tism:.0f}x faster (goal >= 100x); vs fast ISM: {g_fast / g_tism:.0f}x")
    for name, _, d in rows[:4]:
        assert d <= 1e-4 * max(scale, 1), f"{name} differs from tangermeme by {d:.3g}"
    print(f"ISM outputs all equal tangermeme's to 1e-4 (largest output {scale:.3g}).")
    for w in tm_warn: print(f"tangermeme warned: {w[:200]}")

    print(f"\nTISM accuracy on a trained model (SeqCNN trained on {a.train_peaks} chip_oct4_mafk peaks, 200 nt, 2 epochs):")
    tmodel, Xc, oct4 = trained_model(a.train_peaks)
    Xt = Xc[oct4[:a.n]]
    (te, exact), (tt, approx) = timed(lambda: ism(tmodel, Xt, batch_size=bs, device=dev, fast=False), dev), timed(lambda: tism(tmodel, Xt, device=dev), dev)
    mask = ~Xt.bool()[..., None]
    r = np.corrcoef(ism_effects(exact, Xt, 'delta')[mask].numpy(), ism_effects(approx, Xt, 'delta')[mask].numpy())[0, 1]
    rx = np.corrcoef(ism_effects(exact, Xt, 'x_input').sum(1).flatten().numpy(), ism_effects(approx, Xt, 'x_input').sum(1).flatten().numpy())[0, 1]
    print(f"  {a.n} Oct4 test peaks: Pearson r(TISM, exact ISM) = {r:.3f} over the {int(mask.sum()):,} substitution effects, "
          f"{rx:.3f} over the per-base x_input importances; exact {te:.2f} s, TISM {tt:.3f} s")

    if a.json:
        plain = t['tangermeme saturation_mutagenesis(fast=False)']
        with open(a.json, 'w') as f:
            json.dump(dict(device=str(dev), threads=torch.get_num_threads(), n=a.n, length=L,
                           rows=[dict(method=nm, seconds=s, vs_tangermeme=plain / s, max_abs_diff=d) for nm, s, d in rows],
                           fast_vs_tangermeme=plain / g_fast, tism_vs_exact=g_exact / g_tism, tism_r=r, tism_r_x_input=rx), f, indent=1)


if __name__ == '__main__': main()
