"""T-GEM speed and memory: genobook's streaming attention against its earlier fused path and a seed-style reference, side by side.

Three implementations of the same model (the seed's configuration: 5 heads, 3 layers, dropout 0.3, no activation, one
shared LayerNorm, diagonal masked), on the same parameters:
  * genobook:   `genobook.models.tgem.TGEM` as shipped: the streaming fast path (blocks of 64 query genes, exponentials
                recomputed in the backward pass; memory linear in the number of genes);
  * fused:      the fused path genobook used before (one (N, heads, G, G) tensor of exponentials per layer kept for the
                backward pass), copied below so that it can still be timed;
  * seed-style: the T-GEM seed's way of computing a layer, written out here: a Python loop over heads, queries and keys
                expanded to (N, G, G), the softmax of q k^T materialised, the diagonal zeroed by multiplying with 1 - I,
                the heads concatenated and merged with W0 (Zhang et al., Cancers 2022; github.com/TingZhang1997/T-GEM).
Cases: 765 genes (all genes of the real `pbmc68k` cells) and 1,708 genes (the seed's TCGA gene count; synthetic N(0, 1)
values, since speed does not depend on the values), batch 16 (the seed's) and 64, a training step (forward, cross-entropy,
backward, Adam step) and inference (eval mode, no gradients).

Method. Every case runs in its own fresh process (`--one`), so that no case inherits another's memory or warm caches.
In that process the model and batch are built, one untimed warm-up step runs, then timed steps until `--min-seconds` have
passed (at least one, at most `--steps`); samples/s = batch x timed steps / time, where time is the process's CPU time
on the CPU (time.process_time: with one thread it is the work done, whatever else the shared machine runs; wall-clock
rates are kept in the JSON as wall_samples_s) and wall-clock time on CUDA. Peak memory (CPU) is the peak resident set
size of the process while the steps run, above its size just before them: the kernel's high-water mark (VmHWM) is reset
through /proc/self/clear_refs before the warm-up and read after the last step (ru_maxrss cannot be reset, and tracemalloc
does not see torch's allocations); on CUDA it is torch.cuda.max_memory_allocated. A case whose memory estimate exceeds
`--max-gib` is skipped and said so (the seed-style training step at 1,708 genes and batch 64 needs about 31 GiB).
Then one training step of genobook's path at 1,708 genes and batch 16 is profiled (torch.profiler, top operators).

Run it with one thread on a shared machine (`OMP_NUM_THREADS=1`, the default of `--threads`): the ratios, measured side by
side in one run, are what the numbers are for. Not part of any test run:

    OMP_NUM_THREADS=1 python benchmarks/tgem_train.py [--batch-sizes 16 64] [--genes 765 1708] [--device cuda] [--json FILE]
"""
from __future__ import annotations
import argparse, json, os, resource, subprocess, sys, time
import numpy as np
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

IMPLS = ('genobook', 'fused', 'seed')
STEPS = ('train', 'infer')


# ---- genobook's earlier fused path (as shipped before the streaming path), kept here to be timed ----
class _ExpAttention(torch.autograd.Function):
    "Numerator sum_j E_ij v_j and normaliser sum_j E_ij of E_ij = exp(q_i k_j - m_i); E (N, H, G, G) saved for backward."
    @staticmethod
    def forward(ctx, q, k, v, m):
        N, H, G = q.shape
        e = torch.baddbmm(-m.reshape(N * H, G, 1), q.reshape(N * H, G, 1), k.reshape(N * H, 1, G)).exp_()
        nz = torch.bmm(e, torch.stack((v, torch.ones_like(v)), -1).reshape(N * H, G, 2)).view(N, H, G, 2)
        ctx.save_for_backward(q, k, v, e)
        return nz[..., 0], nz[..., 1]

    @staticmethod
    @once_differentiable
    def backward(ctx, g_num, g_z):
        q, k, v, e = ctx.saved_tensors
        N, H, G = q.shape
        g_num = torch.zeros_like(q) if g_num is None else g_num
        g_z = torch.zeros_like(q) if g_z is None else g_z
        a = torch.bmm(e, torch.stack((v * k, k), -1).reshape(N * H, G, 2)).view(N, H, G, 2)
        r = torch.bmm(e.transpose(1, 2), torch.stack((g_num * q, g_z * q, g_num), -1).reshape(N * H, G, 3)).view(N, H, G, 3)
        return g_num * a[..., 0] + g_z * a[..., 1], v * r[..., 0] + r[..., 1], r[..., 2], None


def fused_attention(q, k, v, diag_mask, block=None):
    with torch.no_grad(): m = torch.maximum(q * k.amax(-1, keepdim=True), q * k.amin(-1, keepdim=True))
    num, z = _ExpAttention.apply(q, k, v, m)
    if diag_mask: num = num - torch.exp(q * k - m) * v
    return num / z


# ---- the seed's way of computing T-GEM, on a genobook model's parameters ----
def seed_layer(layer, x):
    "One attention layer as the seed computes it: per-head loop, (N, G, G) softmax, diagonal zeroed, heads merged with W0."
    N, G = x.shape
    x3 = x.reshape(N, G, 1)
    mask = 1 - torch.eye(G, dtype=x.dtype, device=x.device)
    heads = []
    for h in range(layer.WQ.shape[0]):
        Q = (x3 * layer.WQ[h, :, None]).expand(N, G, G)                    # query i along rows
        K = (x3 * layer.WK[h, :, None]).expand(N, G, G).permute(0, 2, 1)   # key j along columns
        V = x3 * layer.WV[h, :, None]
        z = torch.softmax(Q * K, dim=2) * mask
        heads.append(torch.matmul(z, V))
    return torch.matmul(torch.cat(heads, dim=2), layer.W0)               # (N, G)


def seed_forward(model, x):
    h = x
    for i, layer in enumerate(model.layers):
        h = h + model.norms[i if len(model.norms) > 1 else 0](model.dropout(seed_layer(layer, h)))
    return model.fc(model.act(h))


# ---- one case, in its own process ----
def _rss_reset()->bool:
    try:
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')
        return True
    except OSError: return False


def _status_kib(key:str)->int:
    with open('/proc/self/status') as f:
        return next(int(l.split()[1]) for l in f if l.startswith(key + ':'))


def estimate_gib(impl:str, step:str, genes:int, batch:int, heads:int=5, layers:int=3)->float:
    "Rough memory need: (N, G, G) float32 tensors kept at once (seed: ~3 per head and layer in training; fused: 1 per layer)."
    g2 = batch * genes ** 2 * 4
    if impl == 'seed': n = 3 * heads * layers if step == 'train' else 3
    elif impl == 'fused': n = layers + 2 * heads if step == 'train' else heads
    else: n = 0
    return n * g2 / 2 ** 30


def one_case(genes:int, batch:int, step:str, impl:str, steps:int, min_seconds:float, device:str)->dict:
    from genobook.core import set_seed
    from genobook.models import tgem as T
    dev = torch.device(device)
    if impl == 'fused': T._stream_attention = fused_attention
    set_seed(0)
    if genes == 765:
        from genobook.datasets import load_dataset
        from genobook.expr import load_expression
        e = load_expression(load_dataset('pbmc68k'), label='bulk_labels')
        X, n_classes = torch.as_tensor(np.asarray(e.X[:batch]), dtype=torch.float32), len(e.labels)
        assert len(X) == batch
    else:
        X, n_classes = torch.randn(batch, genes), 34          # synthetic, standardised like the seed's input
    y = torch.arange(batch) % n_classes
    model = T.TGEM(T.TGEMConfig(genes, n_classes)).to(dev)
    X, y = X.to(dev), y.to(dev)
    fwd = (lambda x: seed_forward(model, x)) if impl == 'seed' else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def run():
        if step == 'train':
            opt.zero_grad(); F.cross_entropy(fwd(X), y).backward(); opt.step()
        else:
            with torch.no_grad(): fwd(X)
        if dev.type == 'cuda': torch.cuda.synchronize()

    model.train(step == 'train')
    if dev.type == 'cuda': torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    base, reset = _status_kib('VmRSS'), _rss_reset()
    run()
    ts, cpu = [], []
    while len(ts) < steps and (not ts or sum(cpu) < min_seconds):
        t0, c0 = time.perf_counter(), time.process_time(); run()
        ts.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
    if dev.type == 'cuda': peak = torch.cuda.max_memory_allocated() / 2 ** 20
    else:
        hwm = _status_kib('VmHWM') if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = (hwm - base) / 1024
    per_s = batch * len(ts) / (sum(cpu) if dev.type == 'cpu' else sum(ts))
    return dict(genes=genes, batch_size=batch, step=step, impl=impl, samples_s=per_s, wall_samples_s=batch * len(ts) / sum(ts),
                step_s=sum(ts) / len(ts), clock='process CPU time' if dev.type == 'cpu' else 'wall clock', timed_steps=len(ts), peak_mib=peak,
                memory='cuda max_memory_allocated' if dev.type == 'cuda' else ('VmHWM delta' if reset else 'ru_maxrss delta'))


def profile(genes:int, batch:int, device:str, top:int=12)->str:
    "torch.profiler table of one training step of genobook's path (after a warm-up step)."
    from torch.profiler import profile as prof, ProfilerActivity
    from genobook.models.tgem import TGEM, TGEMConfig
    torch.manual_seed(0)
    dev = torch.device(device)
    model = TGEM(TGEMConfig(genes, 34)).to(dev).train()
    X, y = torch.randn(batch, genes, device=dev), torch.arange(batch, device=dev) % 34
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    def run(): opt.zero_grad(); F.cross_entropy(model(X), y).backward(); opt.step()
    run()
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == 'cuda' else [])
    with prof(activities=acts) as p: run()
    key = 'self_cuda_time_total' if dev.type == 'cuda' else 'self_cpu_time_total'
    return p.key_averages().table(sort_by=key, row_limit=top)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--genes', type=int, nargs='+', default=[765, 1708], help='gene counts (default 765 1708)')
    p.add_argument('--batch-sizes', type=int, nargs='+', default=[16, 64], help='batch sizes (default 16 (the seed) 64)')
    p.add_argument('--steps', type=int, default=5, help='at most this many timed steps per case (default 5)')
    p.add_argument('--epochs', type=int, default=None, help=argparse.SUPPRESS)   # older name of --steps (benchmarks/run_all.py)
    p.add_argument('--min-seconds', type=float, default=3., help='time steps until this long has passed (default 3)')
    p.add_argument('--max-gib', type=float, default=10., help='skip cases estimated to need more memory (default 10 GiB)')
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (default cpu)")
    p.add_argument('--threads', type=int, default=1, help='torch/OpenMP threads per case (default 1: a shared machine)')
    p.add_argument('--no-profile', action='store_true', help='skip the profile of a training step')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    p.add_argument('--one', default=None, help=argparse.SUPPRESS)       # genes,batch,step,impl: run one case, print JSON
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    steps = a.epochs if a.epochs is not None else a.steps
    if a.one:
        g, b, s, i = a.one.split(',')
        print(json.dumps(one_case(int(g), int(b), s, i, steps, a.min_seconds, a.device)))
        return
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads))
    print(f"T-GEM, 5 heads, 3 layers; torch {torch.__version__}, {a.threads} thread(s), device {a.device}; "
          f"at most {steps} timed steps or {a.min_seconds:g} s per case, after one warm-up step\n", flush=True)
    rows = []
    for genes in a.genes:
        for bs in a.batch_sizes:
            for step in STEPS:
                for impl in IMPLS:
                    est = estimate_gib(impl, step, genes, bs)
                    if est > a.max_gib:
                        print(f"  {genes} genes, batch {bs}, {step}, {impl}: skipped (needs about {est:.0f} GiB > --max-gib {a.max_gib:g})", flush=True)
                        rows.append(dict(genes=genes, batch_size=bs, step=step, impl=impl, skipped=f"needs about {est:.0f} GiB"))
                        continue
                    cmd = [sys.executable, __file__, '--one', f"{genes},{bs},{step},{impl}", '--steps', str(steps),
                           '--min-seconds', str(a.min_seconds), '--device', a.device, '--threads', str(a.threads)]
                    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
                    if r.returncode != 0:
                        print(f"  {genes} genes, batch {bs}, {step}, {impl}: FAILED\n{r.stderr[-2000:]}", flush=True)
                        rows.append(dict(genes=genes, batch_size=bs, step=step, impl=impl, skipped='failed')); continue
                    row = json.loads(r.stdout.strip().splitlines()[-1]); rows.append(row)
                    print(f"  {genes} genes, batch {bs}, {step}, {impl}: {row['samples_s']:.1f} samples/s, "
                          f"peak {row['peak_mib']:.0f} MiB ({row['timed_steps']} steps)", flush=True)
    table = summary(rows)
    print('\n' + table)
    prof_txt = None
    if not a.no_profile and 1708 in a.genes:
        prof_txt = profile(1708, 16, a.device)
        print("\nWhere a training step of genobook's path goes (1,708 genes, batch 16, torch.profiler):\n" + prof_txt)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(device=a.device, threads=a.threads, rows=rows, table=table, profile=prof_txt), f, indent=1)


def summary(rows:list[dict])->str:
    "Markdown table: samples/s and peak memory of the three implementations, and genobook's speed ratios."
    get = {(r['genes'], r['batch_size'], r['step'], r['impl']): r for r in rows}
    keys = sorted({(r['genes'], r['batch_size'], r['step']) for r in rows}, key=lambda k: (k[0], k[1], STEPS.index(k[2])))
    def cell(k, i, what):
        r = get.get(k + (i,))
        if r is None: return ''
        if 'skipped' in r: return 'skipped' if what == 'samples_s' else r['skipped']
        return f"{r[what]:.1f}" if what == 'samples_s' else f"{r[what]:.0f}"
    def ratio(k, i):
        a, b = get.get(k + ('genobook',)), get.get(k + (i,))
        if not a or not b or 'skipped' in a or 'skipped' in b: return ''
        return f"{a['samples_s'] / b['samples_s']:.1f}x"
    out = ['| genes | batch | step | genobook (samples/s) | earlier fused | seed-style | genobook / seed-style | '
           'genobook / fused | peak MiB genobook | peak MiB fused | peak MiB seed-style |',
           '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for k in keys:
        out.append(f"| {k[0]} | {k[1]} | {k[2]} | {cell(k, 'genobook', 'samples_s')} | {cell(k, 'fused', 'samples_s')} | "
                   f"{cell(k, 'seed', 'samples_s')} | {ratio(k, 'seed')} | {ratio(k, 'fused')} | {cell(k, 'genobook', 'peak_mib')} | "
                   f"{cell(k, 'fused', 'peak_mib')} | {cell(k, 'seed', 'peak_mib')} |")
    return '\n'.join(out)


if __name__ == '__main__': main()
