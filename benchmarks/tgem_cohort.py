"""T-GEM at cohort size through the command line: train, predict, attribute and network on 1,708 genes x 3,000 samples.

The seed's users train T-GEM on TCGA cohorts of 1,708 genes and thousands of samples (34 cancer types). This script
writes a **synthetic** matrix of that shape (standard-normal values, with a per-class mean shift on 40 genes per class so
that there is something to learn; no real data), a T-GEM training config, and runs the CLI end to end in a temporary
directory, one command per child process:

    genobook train CONFIG                  (the seed's model: 5 heads, 3 layers; batch 16; one-cycle Adam)
    genobook predict CKPT cohort.h5ad      (every sample)
    genobook attribute CKPT subset.h5ad    (integrated gradients over genes, on --attribute-samples samples)
    genobook network CKPT cohort.h5ad C0   (attention attribution of one class, --network-samples cells)

For each child it records the wall time and its peak resident memory (ru_maxrss of that child, from os.wait4), and time
per epoch (training time over epochs, which includes the per-epoch validation pass), and asserts that every child stayed
under --max-gib (default 24: the machine the seed's users have). Not part of any test run (minutes to an hour on 2 CPU
cores):

    OMP_NUM_THREADS=1 python benchmarks/tgem_cohort.py [--samples 3000] [--genes 1708] [--epochs 1] [--keep DIR] [--json FILE]
"""
from __future__ import annotations
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np


def write_cohort(path:Path, n_samples:int, n_genes:int, n_classes:int, seed:int=0)->None:
    "A synthetic, standardised expression matrix as h5ad: obs 'cancer_type' (C0..), var names G0000..; class c shifts 40 genes."
    import anndata, pandas as pd
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    X = rng.standard_normal((n_samples, n_genes)).astype(np.float32)
    for c in range(n_classes):
        genes = rng.choice(n_genes, 40, replace=False)
        X[np.ix_(y == c, genes)] += 1.0
    X = (X - X.mean(0)) / X.std(0)
    obs = pd.DataFrame({'cancer_type': pd.Categorical([f'C{c}' for c in y])}, index=[f'S{i:05d}' for i in range(n_samples)])
    var = pd.DataFrame(index=[f'G{j:04d}' for j in range(n_genes)])
    anndata.AnnData(X, obs=obs, var=var).write_h5ad(path)


def run(cmd:list[str], cwd:Path, env:dict)->dict:
    "Run one child; its wall time (s), peak RSS (MiB, from os.wait4) and output."
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    r = dict(cmd=' '.join(cmd[1:] if cmd[0] == sys.executable else cmd), wall_s=wall, peak_mib=ru.ru_maxrss / 1024,
             cpu_s=ru.ru_utime + ru.ru_stime, rc=p.returncode, output=out[-3000:], full_output=out)
    print(f"  {r['cmd']}: {wall:.0f} s wall, {r['cpu_s']:.0f} s CPU, peak {r['peak_mib']:.0f} MiB, exit {p.returncode}", flush=True)
    if p.returncode != 0: print(out[-3000:], flush=True)
    return r


def epoch_times(out:str)->list[float]:
    "Seconds of each epoch from fastai's epoch table (rows 'epoch train_loss ... mm:ss', between progress-bar redraws)."
    times = []
    for line in re.split(r'[\r\n]', out):
        m = re.match(r'^\s*(\d+)\s+[-\d.]+\s+.*\s(\d+):(\d\d)\s*$', line)
        if m and '|' not in line: times.append(60 * int(m.group(2)) + int(m.group(3)))
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--samples', type=int, default=3000, help='samples (default 3000)')
    ap.add_argument('--genes', type=int, default=1708, help='genes (default 1708, the seed\'s TCGA set)')
    ap.add_argument('--classes', type=int, default=34, help='classes (default 34, the seed\'s cancer types)')
    ap.add_argument('--epochs', type=int, default=1, help='training epochs (default 1)')
    ap.add_argument('--batch-size', type=int, default=16, help='training batch size (default 16, the seed\'s)')
    ap.add_argument('--attribute-samples', type=int, default=32, help='samples given to `genobook attribute` (default 32)')
    ap.add_argument('--network-samples', type=int, default=8, help='--max-samples of `genobook network` (default 8)')
    ap.add_argument('--n-steps', type=int, default=16, help='integration steps of attribute and network (default 16)')
    ap.add_argument('--threads', type=int, default=1, help='OMP threads per child (default 1: a shared machine)')
    ap.add_argument('--max-gib', type=float, default=24., help='fail when a child\'s peak memory exceeds this (default 24)')
    ap.add_argument('--keep', default=None, help='work in this directory and keep it (default: a temporary one)')
    ap.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = ap.parse_args()
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix='tgem_cohort_'))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads))
    gb = [sys.executable, '-m', 'genobook.cli'] if shutil.which('genobook') is None else ['genobook']
    try:
        t0 = time.perf_counter()
        write_cohort(work/'cohort.h5ad', a.samples, a.genes, a.classes)
        import anndata
        sub = anndata.read_h5ad(work/'cohort.h5ad')[:a.attribute_samples].copy()
        sub.write_h5ad(work/'subset.h5ad')
        print(f"synthetic cohort: {a.samples} samples x {a.genes} genes, {a.classes} classes, written in "
              f"{time.perf_counter() - t0:.0f} s to {work}", flush=True)
        (work/'tgem.toml').write_text(f"""[data]
expression = "cohort.h5ad"
label = "cancer_type"

[model]
kind = "tgem"

[train]
epochs = {a.epochs}
lr = 0.001
batch_size = {a.batch_size}
seed = 0
device = "cpu"

[output]
checkpoint = "tgem.pt"
""")
        steps = [('train', gb + ['train', 'tgem.toml', '--verbose']),
                 ('predict', gb + ['predict', 'tgem.pt', 'cohort.h5ad', '--out', 'predictions.csv', '--device', 'cpu']),
                 ('attribute', gb + ['attribute', 'tgem.pt', 'subset.h5ad', '--out', 'attributions.npz', '--n-steps', str(a.n_steps),
                                     '--batch-size', '8', '--device', 'cpu']),
                 ('network', gb + ['network', 'tgem.pt', 'cohort.h5ad', 'C0', '--target', 'label', '--out', 'c0.graphml',
                                   '--max-samples', str(a.network_samples), '--n-steps', str(a.n_steps), '--device', 'cpu'])]
        rows = []
        for name, cmd in steps:
            r = run(cmd, work, env); r['step'] = name; rows.append(r)
            if name != 'train': r.pop('full_output')
            if r['rc'] != 0: break
        train = next(r for r in rows if r['step'] == 'train')
        epoch_s = epoch_times(train.pop('full_output', ''))
        per_epoch = float(np.mean(epoch_s)) if epoch_s else train['wall_s'] / a.epochs
        print(f"\n| step | wall (s) | CPU (s) | peak memory (MiB) |\n|---|---:|---:|---:|")
        for r in rows: print(f"| {r['step']} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['peak_mib']:.0f} |")
        how = ("fastai's epoch table: training and validation passes" if epoch_s else
               "the whole command over the epochs, data loading and test metrics included")
        print(f"\ntraining: {per_epoch:.0f} s per epoch (wall; {how}); {a.threads} thread(s)")
        for f in ('tgem.pt', 'predictions.csv', 'attributions.npz', 'c0.graphml', 'c0.sif', 'c0.hubs.csv'):
            print(f"  {f}: {'%.1f MiB' % ((work/f).stat().st_size / 2**20) if (work/f).exists() else 'MISSING'}")
        if a.json:
            Path(a.json).write_text(json.dumps(dict(samples=a.samples, genes=a.genes, epochs=a.epochs, threads=a.threads,
                                                    per_epoch_s=per_epoch, rows=rows), indent=1))
        assert all(r['rc'] == 0 for r in rows) and len(rows) == len(steps), 'a CLI step failed (see above)'
        worst = max(r['peak_mib'] for r in rows) / 1024
        assert worst < a.max_gib, f"a child peaked at {worst:.1f} GiB, above --max-gib {a.max_gib:g}"
        print(f"\nevery step finished; largest peak {worst:.2f} GiB < {a.max_gib:g} GiB")
    finally:
        if not a.keep: shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__': main()
