"""Timing helper shared by the benchmark scripts (they run as `python benchmarks/<name>.py`, so this folder is on sys.path)."""
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
