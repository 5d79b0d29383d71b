"""Streamed genome windows (`genobook.intervals.genome_dls`) vs the in-memory loader (`genobook.data.seq_dls`): memory and speed.

The streamed loader reads each batch of windows from the indexed genome and one-hot encodes it on the fly; the
in-memory loader needs the one-hot of every window as one float32 tensor (N x 4 x L x 4 bytes) before it starts. On the
E. coli K-12 MG1655 genome (`ecoli_mg1655`, 4.6 Mb), `--sizes` sets of random windows of `--width` bp (default 10,000
and 200,000) are loaded, each set in its own subprocess so that its peak resident memory (`ru_maxrss`) is its own:
  * stream: `genome_dls` with jitter and reverse-complement augmentation, `--batches` training batches of `--bs`;
  * memory: `fetch_one_hot` of all windows, then `seq_dls` with the same augmentation, the same batches.
Reported per run: windows, peak RSS, RSS above the bare interpreter with genobook imported (the baseline run), the
set-up time (intervals, one-hot) and windows/s over the timed batches (after one warm-up batch). The in-memory run is
skipped at sizes whose one-hot would exceed `--max-memory-gb`.

Not part of any test run:  python benchmarks/streaming.py [--sizes 10000 200000] [--width 1000] [--bs 256] [--batches 100] [--json FILE]
"""
import argparse, json, resource, subprocess, sys, time


def worker(mode:str, n:int, width:int, bs:int, batches:int, seed:int)->dict:
    "One measurement, in this process: build the loader for `n` windows, time `batches` batches, report memory."
    import numpy as np, pandas as pd, torch
    torch.set_num_threads(1)
    from genobook.datasets import load_dataset
    from genobook.intervals import genome_dls, fetch_one_hot, chrom_sizes
    from genobook.data import seq_dls
    genome = load_dataset('ecoli_mg1655')
    if mode == 'baseline': return dict(mode=mode, n=0, maxrss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    L = chrom_sizes(genome)['K-12-MG1655']
    rng = np.random.default_rng(seed)
    margin = 20
    start = rng.integers(margin, L - width - margin, n)
    iv = pd.DataFrame({'chrom': 'K-12-MG1655', 'start': start, 'end': start + width})
    y = torch.from_numpy(rng.integers(0, 2, n))
    split = (np.arange(int(n * 0.9)), np.arange(int(n * 0.9), n))
    t0 = time.perf_counter()
    if mode == 'stream': dls = genome_dls(genome, iv, y, split, bs=bs, jitter=margin, rc=True, device='cpu', seed=seed)
    else: dls = seq_dls(fetch_one_hot(genome, iv), y, split, bs=bs, rc=True, shift=margin, device='cpu', seed=seed)
    setup = time.perf_counter() - t0
    it = iter(dls.train)
    next(it)                                                      # warm-up batch (first chromosome read, caches)
    t0, seen = time.perf_counter(), 0
    for _ in range(batches):
        try: x, _ = next(it)
        except StopIteration: it = iter(dls.train); x, _ = next(it)
        seen += len(x)
    dt = time.perf_counter() - t0
    return dict(mode=mode, n=n, width=width, setup_s=setup, windows_per_s=seen / dt,
                maxrss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[10_000, 200_000], help='numbers of windows (default 10000 200000)')
    p.add_argument('--width', type=int, default=1000, help='window width in bp (default 1000)')
    p.add_argument('--bs', type=int, default=256, help='batch size (default 256)')
    p.add_argument('--batches', type=int, default=100, help='timed training batches per run (default 100)')
    p.add_argument('--max-memory-gb', type=float, default=4.0, help='skip in-memory runs whose one-hot exceeds this (default 4)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    p.add_argument('--worker', nargs=2, metavar=('MODE', 'N'), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker[0], int(a.worker[1]), a.width, a.bs, a.batches, a.seed))); return
    from genobook.datasets import fetch
    fetch('ecoli_mg1655')                                          # once, outside the measured processes
    def run(mode, n):
        cmd = [sys.executable, __file__, '--worker', mode, str(n), '--width', str(a.width), '--bs', str(a.bs),
               '--batches', str(a.batches), '--seed', str(a.seed)]
        r = subprocess.run(cmd, capture_output=True, text=True, env={'OMP_NUM_THREADS': '1', **__import__('os').environ})
        if r.returncode: sys.exit(f'{mode} {n} failed:\n{r.stderr[-3000:]}')
        return json.loads(r.stdout.strip().splitlines()[-1])
    base = run('baseline', 0)
    rows = [base]
    for n in a.sizes:
        rows.append(run('stream', n))
        gb = n * 4 * a.width * 4 / 2**30
        if gb <= a.max_memory_gb: rows.append(run('memory', n))
        else: rows.append(dict(mode='memory', n=n, skipped=f'one-hot would take {gb:.1f} GiB (> --max-memory-gb {a.max_memory_gb:g})'))
    print(f"E. coli MG1655, windows of {a.width} bp, batch {a.bs}, jitter 20 + RC, {a.batches} timed batches; "
          f"baseline (genobook + genome loaded) {base['maxrss_mib']:.0f} MiB\n")
    print('| loader | windows | peak RSS | above baseline | set-up | windows/s |')
    print('|---|---|---|---|---|---|')
    for r in rows[1:]:
        name = 'streamed (genome_dls)' if r['mode'] == 'stream' else 'in memory (fetch_one_hot + seq_dls)'
        if 'skipped' in r: print(f"| {name} | {r['n']:,} | skipped: {r['skipped']} | | | |"); continue
        print(f"| {name} | {r['n']:,} | {r['maxrss_mib']:.0f} MiB | {r['maxrss_mib'] - base['maxrss_mib']:.0f} MiB | "
              f"{r['setup_s']:.2f} s | {r['windows_per_s']:,.0f} |")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(args=vars(a), rows=rows), f, indent=1)


if __name__ == '__main__':
    main()
