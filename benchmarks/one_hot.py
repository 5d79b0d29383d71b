"""One-hot encoding speed: `genobook.seq.one_hot` vs tangermeme's `one_hot_encode`, side by side.

Builds `--mb` megabases of real-derived DNA by tiling the Oct4/MafK ChIP-seq peak sequences (200 nt each,
`genobook.datasets.load_dataset('chip_oct4_mafk')`), then times, several times each:

* batch:  N sequences of 200 nt → (N, 4, 200). tangermeme encodes one string at a time, so its side stacks the
          per-sequence encodings (the faster of int8-then-cast and float32-per-sequence is reported);
* single: the same bases as one long string → (1, 4, L) for genobook, (4, L) for tangermeme;
          (tangermeme returns a transposed (L, 4) array viewed as (4, L); genobook a contiguous (1, 4, L));

in float32 (what models take) and int8 (tangermeme's default dtype). Every pair of outputs is checked equal.
Not part of any test run:  python benchmarks/one_hot.py --mb 10 [--json FILE]
"""
import argparse, json, statistics, time
import torch
from genobook.datasets import load_dataset
from genobook.seq import one_hot
from tangermeme.utils import one_hot_encode


def timeit(f, repeats):
    "Run `f` `repeats` times; return (best, median) seconds and the last output."
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); out = f(); ts.append(time.perf_counter() - t0)
    return min(ts), statistics.median(ts), out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--mb', type=float, default=10, help='megabases of sequence to encode (default 10)')
    p.add_argument('--repeats', type=int, default=5, help='timed runs per case (default 5)')
    p.add_argument('--device', default='cpu', help="device the encoded tensor is moved to, e.g. 'cuda' (default cpu); "
                   "encoding itself runs on the CPU for both libraries, the copy is timed too")
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    dev = torch.device(a.device)

    peaks = load_dataset('chip_oct4_mafk').seq.tolist()
    L = len(peaks[0])
    n = int(a.mb * 1e6) // L
    seqs = (peaks * (n // len(peaks) + 1))[:n]
    big = ''.join(seqs)
    print(f"{n:,} ChIP-peak sequences x {L} nt = {len(big)/1e6:.1f} Mb; {a.repeats} repeats; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; output on {dev}\n")

    def sync(x):
        if dev.type == 'cuda': torch.cuda.synchronize()
        return x

    cases = {
        'batch  float32': (lambda: sync(one_hot(seqs).to(dev)),
                           {'stack int8 → float32': lambda: sync(torch.stack([one_hot_encode(s) for s in seqs]).float().to(dev)),
                            'stack float32': lambda: sync(torch.stack([one_hot_encode(s, dtype=torch.float32) for s in seqs]).to(dev))}),
        'batch  int8': (lambda: sync(one_hot(seqs, dtype=torch.int8).to(dev)),
                        {'stack int8': lambda: sync(torch.stack([one_hot_encode(s) for s in seqs]).to(dev))}),
        'single float32': (lambda: sync(one_hot(big).to(dev)),
                           {'float32': lambda: sync(one_hot_encode(big, dtype=torch.float32).to(dev))}),
        'single int8': (lambda: sync(one_hot(big, dtype=torch.int8).to(dev)),
                        {'int8': lambda: sync(one_hot_encode(big).to(dev))}),
    }
    rows = []
    for case, (ours, theirs) in cases.items():
        g_best, g_med, g_out = timeit(ours, a.repeats)
        t_res = {k: timeit(f, a.repeats) for k, f in theirs.items()}
        t_key = min(t_res, key=lambda k: t_res[k][0])
        t_best, t_med, t_out = t_res[t_key]
        t_out = t_out.reshape(g_out.shape).to(g_out.dtype)
        assert torch.equal(g_out, t_out), f"{case}: genobook and tangermeme disagree"
        rows.append((case, g_best, g_med, t_best, t_med, t_best / g_best, t_key))
        del g_out, t_out, t_res

    hdr = f"{'case':<15} {'genobook best':>13} {'median':>8} {'tangermeme best':>15} {'median':>8} {'speed-up':>8}  tangermeme variant"
    print(hdr); print('-' * len(hdr))
    for case, gb, gm, tb, tm, r, k in rows:
        print(f"{case:<15} {gb*1e3:>10.1f} ms {gm*1e3:>5.1f} ms {tb*1e3:>12.1f} ms {tm*1e3:>5.1f} ms {r:>7.2f}x  {k}")
    print("\nspeed-up = tangermeme best / genobook best (>1: genobook faster). All outputs checked equal.")
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(device=str(dev), threads=torch.get_num_threads(), mb=len(big) / 1e6, rows=[
                dict(case=c, genobook_s=gb, tangermeme_s=tb, speedup=r, tangermeme_variant=k) for c, gb, _, tb, _, r, k in rows]), f, indent=1)


if __name__ == '__main__': main()
