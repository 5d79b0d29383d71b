"""Run every benchmark side by side in one go and write the results table (benchmarks/RESULTS.md) with the machine it ran on.

Each script runs in its own process (so that one cannot warm or fill memory for another), with the arguments below,
writes its numbers as JSON, and its full printed output is kept in the results file. The summary table is what the
README shows. Install and test-suite times are not measured here (they need a fresh clone and a fresh virtual
environment): give the log of a `bash .ci/run` with `--ci-log` and its "install took", "notebook tests took" and
pytest lines are read from it.

    python benchmarks/run_all.py [--device cuda] [--threads N] [--quick] [--ci-log ci.log] [--out benchmarks/RESULTS.md]

`--quick` runs every script on smaller sizes (a smoke run: the ratios are noisier). Not part of any test run.
"""
from __future__ import annotations
import argparse, datetime, json, os, platform, re, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# script, arguments (full run), arguments (--quick)
SCRIPTS = [('one_hot', ['--mb', '10', '--repeats', '5'], ['--mb', '1', '--repeats', '2']),
           ('ism', ['--n', '2', '--repeats', '2'], ['--n', '1', '--repeats', '1', '--min-seconds', '0', '--length', '500', '--train-peaks', '500']),
           ('attribute_ig', ['--n', '16', '--repeats', '2'], ['--n', '4', '--repeats', '1', '--min-seconds', '0', '--n-steps', '10']),
           ('tgem_train', [], ['--genes', '765', '--batch-sizes', '16', '--steps', '2', '--no-profile']),
           ('longseq', ['--batch-sizes', '1', '4'], ['--batch-sizes', '1', '--repeats', '1', '--checkpoint', 'off'])]


def machine(device:str)->str:
    "One line describing the machine: CPU model, cores, memory, GPU, Python and torch versions."
    import torch
    cpu = platform.processor() or platform.machine()
    try: cpu = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): pass
    try: mem = f"{int(next(l.split()[1] for l in open('/proc/meminfo') if l.startswith('MemTotal'))) / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration): mem = 'RAM unknown'
    gpu = torch.cuda.get_device_name(0) if device.startswith('cuda') and torch.cuda.is_available() else 'no GPU used'
    return (f"{cpu}, {os.cpu_count()} cores, {mem}, {gpu}; Python {platform.python_version()}, torch {torch.__version__}, "
            f"{platform.system()} {platform.release()}")


def ci_times(log:str)->dict:
    "Install, notebook-test and pytest times (seconds) read from the output of `bash .ci/run`."
    text, out = Path(log).read_text(errors='replace'), {}
    for key, pat in [('install_s', r'install took (\d+) s'), ('notebooks_s', r'notebook tests took (\d+) s')]:
        m = re.search(pat, text)
        if m: out[key] = int(m.group(1))
    m = re.search(r'(\d+) passed.* in ([\d.]+)s', text)
    if m: out['pytest_tests'], out['pytest_s'] = int(m.group(1)), float(m.group(2))
    return out


def summary(res:dict, ci:dict)->list[tuple[str, str, str, str]]:
    "Rows (benchmark, genobook, peer or reference, result) of the README table."
    rows = []
    if 'one_hot' in res:
        r = {x['case']: x for x in res['one_hot']['rows']}
        for case in ('batch  float32', 'single float32'):
            if case in r:
                x = r[case]
                what = (f"one-hot, {res['one_hot']['mb']:.0f} Mb as 200-nt sequences" if case.startswith('batch')
                        else f"one-hot, {res['one_hot']['mb']:.0f} Mb as one string")
                rows.append((what, f"{x['genobook_s'] * 1e3:.0f} ms", f"tangermeme `one_hot_encode` {x['tangermeme_s'] * 1e3:.0f} ms",
                             f"{x['speedup']:.2f}x (goal >= 1x), equal outputs"))
    if 'ism' in res:
        j = res['ism']; t = {x['method']: x for x in j['rows']}
        fast, plain = t['genobook ism(fast=True)'], t['tangermeme saturation_mutagenesis(fast=False)']
        rows.append((f"ISM, DRG-style CNN, L = {j['length']}, {j['n']} seq.", f"fast ISM {fast['seconds']:.1f} s",
                     f"tangermeme `saturation_mutagenesis` {plain['seconds']:.1f} s",
                     f"{j['fast_vs_tangermeme']:.1f}x (goal >= 10x), max diff {fast['max_abs_diff']:.0e}"))
        rows.append(("TISM vs exact ISM, same model", f"TISM {t['genobook tism']['seconds']:.2f} s",
                     f"genobook exact ISM {t['genobook ism(fast=False)']['seconds']:.1f} s",
                     f"{j['tism_vs_exact']:.0f}x (goal >= 100x); r = {j['tism_r']:.2f} with exact ISM (trained model)"))
    if 'attribute_ig' in res:
        for x in res['attribute_ig']['rows']:
            rows.append((f"IG, {x['model']}, {res['attribute_ig']['n']} samples", f"`attribute` {x['genobook_s']:.2f} s",
                         f"captum `{x['peer']}` {x['captum_s']:.2f} s",
                         f"overhead {x['overhead']:+.1%} (goal <= +10 %), equal values; best of {x['runs']} in turns"))
    if 'tgem_train' in res:
        got = {(x['genes'], x['batch_size'], x['step'], x['impl']): x for x in res['tgem_train']['rows'] if 'samples_s' in x}
        for (g, b, s, i), x in got.items():
            ref = got.get((g, b, s, 'seed'))
            if i != 'genobook' or ref is None: continue
            rows.append((f"T-GEM {'training step' if s == 'train' else 'inference'}, {g} genes, batch {b}",
                         f"{x['samples_s']:.1f} samples/s, {x['peak_mib']:.0f} MiB",
                         f"seed-style {ref['samples_s']:.1f} samples/s, {ref['peak_mib']:.0f} MiB",
                         f"{x['samples_s'] / ref['samples_s']:.1f}x" + (" (goal >= 5x)" if g == 765 and s == 'train' else " (goal >= 10x)" if g == 1708 and s == 'train' else "")))
    if 'longseq' in res:
        for x in res['longseq']['rows']:
            if 'fwd_bwd_s' not in x: continue
            rows.append((f"long-sequence model, {res['longseq']['length']:,} nt, batch {x['batch_size']}, "
                         f"checkpoint_stem={x['checkpoint_stem']}", f"fwd+bwd {x['fwd_bwd_s']:.2f} s",
                         f"peak memory {x['peak_mib']:.0f} MiB", f"{x['fwd_bwd_s'] / x['batch_size']:.2f} s/sample"))
    if ci:
        if 'install_s' in ci: rows.append(('install (`pip install -e ".[dev]"`, fresh venv)', f"{ci['install_s']} s", '', ''))
        if 'notebooks_s' in ci: rows.append(('notebook tests (`nbdev-test --n-workers 2`)', f"{ci['notebooks_s']} s", '', ''))
        if 'pytest_s' in ci: rows.append((f"pytest tests/ ({ci['pytest_tests']} tests)", f"{ci['pytest_s']:.0f} s", '', ''))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda'")
    p.add_argument('--threads', type=int, default=None, help='torch threads for every script (default: torch default)')
    p.add_argument('--quick', action='store_true', help='small sizes (smoke run)')
    p.add_argument('--only', nargs='+', default=None, help='run only these scripts (default: all)')
    p.add_argument('--ci-log', default=None, help='output of `bash .ci/run` to read install and test times from')
    p.add_argument('--out', default=str(HERE/'RESULTS.md'), help='results file (default benchmarks/RESULTS.md)')
    a = p.parse_args()
    res, logs, tmp = {}, {}, Path(tempfile.mkdtemp(prefix='genobook-bench-'))
    for name, full, quick in SCRIPTS:
        if a.only and name not in a.only: continue
        js = tmp/f'{name}.json'
        args = [*(quick if a.quick else full), '--device', a.device] + (['--threads', str(a.threads)] if a.threads else [])
        cmd = [sys.executable, str(HERE/f'{name}.py'), *args, '--json', str(js)]
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        logs[name] = (' '.join(['python', f'benchmarks/{name}.py', *args]), r.stdout + (r.stderr if r.returncode else ''),
                      time.perf_counter() - t0)
        print(r.stdout[-3000:], flush=True)
        if r.returncode: print(f"{name} failed (exit {r.returncode}):\n{r.stderr[-3000:]}", file=sys.stderr); continue
        res[name] = json.loads(js.read_text())
    ci = ci_times(a.ci_log) if a.ci_log else {}
    rows = summary(res, ci)
    when = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    lines = ['# genobook benchmarks', '', f"Run {when} on: {machine(a.device)}.", '',
             f"Command: `python benchmarks/run_all.py{' --quick' if a.quick else ''} --device {a.device}"
             f"{f' --threads {a.threads}' if a.threads else ''}{' --ci-log ...' if a.ci_log else ''}`.", '',
             '| benchmark | genobook | peer / reference | result |', '|---|---|---|---|']
    lines += [f"| {' | '.join(r)} |" for r in rows]
    lines += ['', '## Full output of each script', '']
    for name, (cmd, out, secs) in logs.items():
        lines += [f"### {name} ({secs:.0f} s)", '', f"`{cmd}`", '', '```', out.rstrip(), '```', '']
    out = Path(a.out)
    fd, tmpname = tempfile.mkstemp(dir=out.parent, prefix='.' + out.name)
    with os.fdopen(fd, 'w') as f: f.write('\n'.join(lines))
    os.replace(tmpname, out)
    print('\n'.join(lines[:len(rows) + 8]))
    print(f"\nwritten: {out}")
    return 0 if len(res) == len([s for s in SCRIPTS if not a.only or s[0] in a.only]) else 1


if __name__ == '__main__': sys.exit(main())
