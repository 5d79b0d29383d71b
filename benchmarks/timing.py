"""Timing helper shared by the benchmark scripts (they run as `python benchmarks/<name>.py`, so this folder is on sys.path)."""
import time
import torch


def timed(f, dev:torch.device):
    "Run `f` once, synchronising CUDA before and after; (seconds, output)."
    if dev.type == 'cuda': torch.cuda.synchronize()
    t0 = time.perf_counter(); out = f()
    if dev.type == 'cuda': torch.cuda.synchronize()
    return time.perf_counter() - t0, out
