"""Timing helpers shared by the benchmark scripts (they run as `python benchmarks/<name>.py`, so this folder is on sys.path)."""
import time
import torch


def timed(f, dev:torch.device):
    "Run `f` once, synchronising CUDA before and after; (seconds, output)."
    if dev.type == 'cuda': torch.cuda.synchronize()
    t0 = time.perf_counter(); out = f()
    if dev.type == 'cuda': torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def best_of(f, dev:torch.device, repeats:int, min_seconds:float=0., cap:int=25):
    """Best time of `f` over at least `repeats` calls, and more (up to `cap`) until the calls add up to `min_seconds`:
    a short case gets enough runs that a slow spell of a shared machine does not decide its time. (best seconds, last output, runs)."""
    ts, out = [], None
    while len(ts) < cap and (len(ts) < repeats or sum(ts) < min_seconds):
        t, out = timed(f, dev); ts.append(t)
    return min(ts), out, len(ts)


def paired_best(g, c, repeats, min_seconds, dev):
    """Best times of `g` and `c`, timed in turns (g, c, g, c, ...) after one untimed warm-up call of each, so that a
    slow spell of the machine falls on both sides: at least `repeats` calls each, more (up to 25) until each side has
    run `min_seconds` in all. (best g, best c, runs each, last outputs)."""
    (_, og), (_, oc) = timed(g, dev), timed(c, dev)
    tg, tc = [], []
    while len(tg) < 25 and (len(tg) < repeats or min(sum(tg), sum(tc)) < min_seconds):
        t, og = timed(g, dev); tg.append(t)
        t, oc = timed(c, dev); tc.append(t)
    return min(tg), min(tc), len(tg), og, oc
