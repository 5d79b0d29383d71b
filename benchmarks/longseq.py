"""Forward + backward time and peak memory of the GX-BERT long-sequence transformer at its seed length (65,536 nt).

The model is `genobook.models.longseq.LongSeqTransformer(LongSeqConfig())`, the seed's configuration (bins of 128 nt,
d_model 128, convolutions k = 6 and 9, one encoder layer of 4 heads x 128, MLP 256-256), in train mode, with and
without `checkpoint_stem`. Inputs are real bases: the 75-nt Sort-Seq lac promoters of
`genobook.datasets.load_dataset('sortseq_lac')` laid end to end and cut into 65,536-nt windows.

Each case (device, batch size, checkpoint_stem) runs in a fresh Python process, so that one case's memory cannot hide
another's. Per case: one warm-up step, then `--repeats` timed steps of forward + MSE loss + backward (median reported),
and as many timed forward passes without gradients (inference). Peak memory:
  * CPU:  the process's peak resident set size (VmHWM, or ru_maxrss) during the steps minus its resident size just
          before the first forward pass (model, input and imports excluded);
  * CUDA: torch.cuda.max_memory_allocated() during the steps minus the memory allocated before them.

Not part of any test run:  python benchmarks/longseq.py [--batch-sizes 1 4 8] [--device cuda] [--threads N] [--json FILE]
"""
import argparse, json, os, resource, statistics, subprocess, sys, time


def _status_kib(field):
    "A memory field (VmRSS, VmHWM) of this process from /proc, in KiB; None where /proc is missing."
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'): return int(line.split()[1])
    except OSError: return None


def _reset_peak():
    "Reset this process's peak RSS (Linux: write 5 to /proc/self/clear_refs); False where that is not possible."
    try:
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')
        return True
    except OSError: return False


def worker(a):
    "Run one case in this process and print its measurements as one JSON line."
    import torch
    import torch.nn.functional as F
    from genobook.datasets import load_dataset
    from genobook.models.longseq import LongSeqConfig, LongSeqTransformer
    from genobook.seq import one_hot
    if a.threads: torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    torch.manual_seed(0)
    model = LongSeqTransformer(LongSeqConfig(length=a.length, checkpoint_stem=a.checkpoint)).to(dev).train()
    lac = load_dataset('sortseq_lac').seq
    need = a.batch * a.length
    text = ''.join(lac[:need // len(lac[0]) + 1])[:need]
    X = one_hot([text[i * a.length:(i + 1) * a.length] for i in range(a.batch)]).to(dev)
    y = torch.randn(a.batch, 1, device=dev)
    del lac, text

    def sync():
        if dev.type == 'cuda': torch.cuda.synchronize()

    def step():
        F.mse_loss(model(X), y).backward()
        model.zero_grad(set_to_none=False)
        sync()

    def infer():
        with torch.no_grad(): model(X)
        sync()

    if dev.type == 'cuda':
        torch.cuda.synchronize(); base = torch.cuda.memory_allocated(); torch.cuda.reset_peak_memory_stats()
    else:
        reset = _reset_peak()
        base = _status_kib('VmRSS') if reset else (_status_kib('VmHWM') or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    step()                                             # warm-up (allocations, oneDNN/cuDNN kernel choice)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
    if dev.type == 'cuda': peak_mib = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        hwm = _status_kib('VmHWM') or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_mib = (hwm - base) / 1024
    inf = []
    for _ in range(a.repeats):
        t0 = time.perf_counter(); infer(); inf.append(time.perf_counter() - t0)
    print(json.dumps({'fwd_bwd_s': statistics.median(times), 'fwd_s': statistics.median(inf), 'peak_mib': peak_mib,
                      'threads': torch.get_num_threads(), 'torch': torch.__version__,
                      'device_name': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'}))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--length', type=int, default=65536, help='input length in bases (default 65536, the seed length)')
    p.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 4], help='batch sizes (default 1 4)')
    p.add_argument('--device', default='cpu', help="'cpu' (default), 'cuda' or 'cuda:N'")
    p.add_argument('--checkpoint', choices=['both', 'on', 'off'], default='both',
                   help='checkpoint_stem setting(s) to measure (default both)')
    p.add_argument('--repeats', type=int, default=3, help='timed steps per case (default 3)')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch default)')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--batch', type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument('--ckpt', type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        a.checkpoint = bool(a.ckpt); return worker(a)

    ckpts = {'both': [False, True], 'on': [True], 'off': [False]}[a.checkpoint]
    rows = []
    for bs in a.batch_sizes:
        for ck in ckpts:
            cmd = [sys.executable, os.path.abspath(__file__), '--worker', '--length', str(a.length), '--batch', str(bs),
                   '--ckpt', str(int(ck)), '--device', a.device, '--repeats', str(a.repeats)]
            if a.threads: cmd += ['--threads', str(a.threads)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                print(f"batch {bs}, checkpoint_stem={ck} failed:\n{r.stderr[-2000:]}", file=sys.stderr)
                rows.append((bs, ck, None)); continue
            rows.append((bs, ck, json.loads(r.stdout.strip().splitlines()[-1])))

    info = next((m for *_, m in rows if m), None)
    if info: print(f"GX-BERT seed config, L = {a.length:,} nt; {a.device} ({info['device_name']}), torch {info['torch']}, "
                   f"{info['threads']} threads; median of {a.repeats} steps, train mode, fresh process per case\n")
    hdr = (f"{'batch':>5} {'checkpoint_stem':>15} {'fwd+bwd s':>10} {'s/sample':>9} {'fwd (no grad) s':>16} "
           f"{'peak MiB':>9} {'MiB/sample':>11}")
    print(hdr); print('-' * len(hdr))
    for bs, ck, m in rows:
        if m is None: print(f"{bs:>5} {str(ck):>15} {'failed':>10}"); continue
        print(f"{bs:>5} {str(ck):>15} {m['fwd_bwd_s']:>10.2f} {m['fwd_bwd_s'] / bs:>9.2f} {m['fwd_s']:>16.2f} "
              f"{m['peak_mib']:>9.0f} {m['peak_mib'] / bs:>11.0f}")

    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(device=a.device, length=a.length, threads=info and info['threads'],
                           rows=[dict(batch_size=bs, checkpoint_stem=ck, **(m or {})) for bs, ck, m in rows]), f, indent=1)


if __name__ == '__main__': main()
