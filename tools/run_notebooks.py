#!/usr/bin/env python
"""Run genobook's module notebooks and store their outputs in them (the nbdev convention: committed with outputs).

    python tools/run_notebooks.py [NOTEBOOK ...] [--workers N] [--dest DIR] [--timeout S] [--keep-going]

Default: every module notebook, `nbs/[0-9]*.ipynb`. Tutorials (`nbs/tutorials/`) are refused: they carry the
outputs of their full-size run (cells flagged `slow` included) and must not be re-run with the default pass.

Each notebook runs in its own fresh Python process (`--workers` of them in parallel) exactly as `nbdev-test` runs
it: nbdev's `NBProcessor` reads it, `nbdev.test._skip_cell` leaves out the cells flagged with the `tst_flags` of
pyproject.toml (`notest`, `slow`) and `#| eval: false` cells, and execnb's `CaptureShell.run_all` executes the rest
in the notebook's folder with `IN_TEST=1`. Only when every cell succeeds are the outputs written back: each code cell
gets the outputs of its run (cells that were skipped keep no outputs), sources and ids stay as they are, and then
`nbdev-clean` (with the project's settings) strips execution counts, cell metadata and `at 0x...` ids. A failing
cell leaves the notebook untouched and makes the command exit with status 1, and so does a notebook that was edited
while it ran (its new content is kept; run it again).

Outputs are kept small and deterministic:
- the process runs with `PYTHONHASHSEED=0`, `MPLBACKEND=Agg`, `OMP_NUM_THREADS=1` (and `MKL_NUM_THREADS=1`);
- plots are stored as plain PNG at 72 dpi (`figure.dpi` and `savefig.dpi`, set by a start-up cell that is run
  before the notebook and not stored; execnb's default would be 2x "retina" PNG). In a notebook that switches
  matplotlib to a non-interactive backend (`matplotlib.use('Agg')`), the start-up cell still shows, at the end of each
  cell, the pyplot figures not shown yet (without closing them, so the cells run as under nbdev-test);
- fastprogress bars are switched off (`NO_BAR`), and any progress-bar output left (HTML `<progress>` displays,
  carriage-return bar lines) is dropped; the `time` column of fastai's training tables is dropped;
- a cell with `#| output: false` (the Quarto directive, which the docs site honours too) keeps no outputs: use it for
  a cell whose output is a timing or otherwise changes from run to run;
- absolute paths of this checkout and of the Python installation in the outputs (e.g. in warnings) are shortened to
  `.` and `<python>`, and the random names of temporary folders (`/tmp/tmpab12cd34`) read `/tmp/tmpXXXXXXXX`, so
  the outputs do not depend on the machine or the run (as nbdev-clean drops the `at 0x...` of reprs).

Size budget: a module notebook with its outputs must stay under 1.5 MB (`SIZE_BUDGET`, checked by
tests/test_notebooks.py, a check over the STORED outputs); this command warns when a notebook exceeds it. `--dest DIR`
writes the executed notebooks into DIR instead of in place (to look at the outputs without touching nbs/).
"""
from __future__ import annotations
import argparse, concurrent.futures as cf, json, os, re, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
SIZE_BUDGET = 1_500_000  # bytes per module notebook, outputs included (tests/test_notebooks.py checks it)
DPI = 72
ENV = {'PYTHONHASHSEED': '0', 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'IN_TEST': '1'}

# Run in the notebook's shell before its first cell; not stored.
STARTUP = f'''
import matplotlib as _mpl
_mpl.rcParams.update({{'figure.dpi': {DPI}, 'savefig.dpi': {DPI}}})
try:
    import fastprogress.fastprogress as _fp
    _fp.NO_BAR = True
except ImportError: pass

def _gb_show_figures():
    "Show, at the end of each cell, the pyplot figures not shown yet, also when a notebook chose another backend."
    import sys, weakref
    from IPython import get_ipython
    from IPython.display import display
    from matplotlib.figure import Figure
    fmt, shown = get_ipython().display_formatter.formatters['image/png'], weakref.WeakSet()
    base = fmt.lookup_by_type(Figure)
    def _png(fig, *args, **kwargs):
        shown.add(fig)
        return base(fig, *args, **kwargs)
    fmt.for_type(Figure, _png)
    def _post_execute():
        if 'matplotlib.pyplot' not in sys.modules: return
        import matplotlib.pyplot as plt
        if 'inline' in plt.get_backend(): return  # the inline backend shows (and closes) them itself
        from matplotlib._pylab_helpers import Gcf
        for m in Gcf.get_all_fig_managers():
            if m.canvas.figure not in shown: display(m.canvas.figure)
    get_ipython().events.register('post_execute', _post_execute)
_gb_show_figures()
del _mpl, _gb_show_figures
'''


def module_notebooks(nbs:Path=NBS)->list[Path]:
    "The module notebooks: `nbs/[0-9]*.ipynb` (tutorials and index excluded)."
    return sorted(nbs.glob('[0-9]*.ipynb'))


# ------------------------------------------------------------------------------------------ output clean-up
_re_bar_line = re.compile(r'(^|\s)\d{1,3}(\.\d+)?% \[|[█▉▊▋▌▍▎▏]{3,}|^\s*█+\s*$|\|\s*\d+/\d+ \[\d\d:\d\d')
_re_tmp = re.compile(re.escape(tempfile.gettempdir()) + r'/tmp[A-Za-z0-9_]{8}\b')  # tempfile.mkdtemp()'s random names
_re_epoch_head = re.compile(r'^(\s*epoch\s.*?)\s+time\s*$')
_re_epoch_row = re.compile(r'^(\s*\d+\s.*?)\s+\d\d:\d\d\s*$')
_re_ansi = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')

def _lines(x)->str: return ''.join(x) if isinstance(x, list) else (x or '')

def _split(s:str)->list[str]: return s.splitlines(keepends=True)

def _clean_text(s:str, subs)->str:
    "A stream's text with carriage-return overwrites resolved, progress-bar lines dropped and paths shortened."
    out, table = [], False
    for line in s.split('\n'):
        line = line.rsplit('\r', 1)[-1] if '\r' in line.rstrip('\r') else line.rstrip('\r')
        if _re_bar_line.search(_re_ansi.sub('', line)): continue
        if _re_epoch_head.match(line): line, table = _re_epoch_head.match(line).group(1), True   # fastai's text table
        elif table and _re_epoch_row.match(line): line = _re_epoch_row.match(line).group(1)   # (callbacks print between rows)
        out.append(line)
    return _sub_paths('\n'.join(out), subs)

def _sub_paths(s:str, subs)->str:
    "`s` with random temporary folder names fixed and the machine's paths (`subs`) shortened."
    s = _re_tmp.sub(tempfile.gettempdir() + '/tmpXXXXXXXX', s)
    for a, b in subs: s = s.replace(a, b)
    return s

def _is_progress_html(h:str)->bool:
    return '<progress' in h or ('progress-bar' in h and len(h) < 5000)

_re_time_th = re.compile(r'<th>\s*time\s*</th>')

def _drop_time_column(h:str)->str:
    "fastai's training table (`<th>time</th>` header) without its time column (elapsed time changes every run)."
    if not _re_time_th.search(h): return h
    def table(m):
        t = m.group(0)
        heads = re.findall(r'<th(?:\s[^>]*)?>(.*?)</th>', re.search(r'<thead>.*?</thead>', t, re.S).group(0), re.S) \
            if '<thead>' in t else []
        names = [x.strip() for x in heads]
        if 'time' not in names or 'epoch' not in names: return t  # only fastai's epoch tables
        j = names.index('time')
        def row(r):
            cells = re.findall(r'<t[hd](?:\s[^>]*)?>.*?</t[hd]>', r.group(0), re.S)
            if len(cells) != len(names): return r.group(0)
            body = ''.join(c for i, c in enumerate(cells) if i != j)
            return re.sub(r'(<tr[^>]*>).*(</tr>)', lambda q: q.group(1) + body + q.group(2), r.group(0), flags=re.S)
        return re.sub(r'<tr[^>]*>.*?</tr>', row, t, flags=re.S)
    return re.sub(r'<table.*?</table>', table, h, flags=re.S)

def clean_outputs(outputs:list, subs=())->list:
    "Notebook `outputs` (nbformat dicts) without progress bars and timing noise, with machine paths shortened."
    res = []
    for o in outputs:
        o = dict(o)
        if o.get('output_type') == 'stream':
            text = _clean_text(_lines(o.get('text')), subs)
            if not text.strip(): continue
            o['text'] = _split(text)
        elif o.get('output_type') in ('display_data', 'execute_result'):
            data = dict(o.get('data', {}))
            h = _lines(data.get('text/html'))
            if h and _is_progress_html(h): continue
            if h: data['text/html'] = _split(_sub_paths(_drop_time_column(h), subs))
            for k in list(data):
                if k.startswith('text/') and k != 'text/html':
                    data[k] = _split(_clean_text(_lines(data[k]), subs)) if isinstance(data[k], (str, list)) else data[k]
            if not data: continue
            o['data'] = data
        elif o.get('output_type') == 'error':
            o['traceback'] = [_clean_text(t, subs) for t in o.get('traceback', [])]
        res.append(o)
    return res


# ------------------------------------------------------------------------------------------ one notebook (child)
def _path_subs()->list[tuple[str, str]]:
    "(path, replacement) pairs, most specific first: the Python installation (a venv inside the checkout too), then the checkout."
    subs = [(p, '<python>') for p in sorted({sys.prefix, sys.base_prefix, sys.exec_prefix}, key=len, reverse=True)
            if p and p != '/']
    return subs + [(str(ROOT) + os.sep, ''), (str(ROOT), '.')]

def run_one(fn:Path, dest:Path|None=None)->int:
    "Execute notebook `fn` as nbdev-test does and write it (to `dest`, default in place) with its outputs; 0 on success."
    from execnb.shell import CaptureShell
    from fastcore.foundation import working_directory
    from nbdev.clean import nbdev_clean
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    from nbdev.test import _skip_cell
    fn = Path(fn).resolve()
    cfg = get_config(fn.parent)
    flags = cfg.get('tst_flags', '') or ''
    flags = flags.split() if isinstance(flags, str) else list(flags)
    timeout = int(cfg.get('cell_timeout', 0) or 0) or None
    text = fn.read_text(encoding='utf-8')
    raw = json.loads(text)
    nb = NBProcessor(fn, rm_directives=False, process=True).nb   # what nbdev.test.test_nb runs
    skip = _skip_cell(nb, flags)
    if len(nb.cells) != len(raw['cells']): raise RuntimeError(f"{fn}: cells do not match after reading")
    k = CaptureShell(fn, mpl_format='png', profile=bool(cfg.get('exec_profile', False)))
    k.run(STARTUP)
    if k.exc: raise RuntimeError(f"start-up cell failed: {k.exc!r}")
    t0 = time.time()
    try:
        with working_directory(fn.parent):
            k.run_all(nb, exc_stop=True, preproc=skip, cell_timeout=timeout)
    except BaseException:
        sys.stderr.write((k.prettytb(fname=fn) or '') + '\n')
        return 1
    finally: k.close()
    subs = _path_subs()
    for c, r in zip(nb.cells, raw['cells']):
        if r.get('cell_type') != 'code': continue
        if r.get('id') and c.get('id') and r['id'] != c['id']: raise RuntimeError(f"{fn}: cell ids do not match")
        out = [] if skip(c) else [dict(o) for o in _to_dicts(c.get('outputs', []))]
        if _directive(c, 'output') == 'false': out = []
        r['outputs'] = clean_outputs(out, subs)
        r['execution_count'] = None
    if fn.read_text(encoding='utf-8') != text:  # edited while it ran: writing would lose that edit
        sys.stderr.write(f"{fn} changed while it ran; not written. Run it again.\n")
        return 1
    target = (Path(dest)/fn.name) if dest else fn
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    nbdev_clean.__wrapped__(fname=str(target))  # the function behind the `nbdev-clean` command
    print(f"{fn.relative_to(ROOT) if fn.is_relative_to(ROOT) else fn}: ran in {time.time() - t0:.0f} s, "
          f"{target.stat().st_size/1e3:.0f} kB -> {target}", flush=True)
    return 0

def _directive(cell, name:str)->str:
    "Lower-case value of directive `#| name: value` of a cell read by nbdev ('' when absent)."
    v = (getattr(cell, 'directives_', None) or {}).get(name)
    if isinstance(v, (list, tuple)): v = ' '.join(map(str, v))
    return str(v or '').strip().strip('"\'').lower()

def _to_dicts(x):
    "fastcore AttrDicts (and lists of them) to plain dicts and lists."
    if isinstance(x, dict): return {k: _to_dicts(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)): return [_to_dicts(v) for v in x]
    return x


# ------------------------------------------------------------------------------------------ many notebooks (parent)
def _child(fn:Path, dest, timeout)->tuple[Path, int, str, float]:
    env = {**os.environ, **ENV}
    cmd = [sys.executable, str(Path(__file__).resolve()), '--_one', str(fn)] + (['--dest', str(dest)] if dest else [])
    t0 = time.time()
    try:
        r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        return fn, r.returncode, r.stdout + r.stderr, time.time() - t0
    except subprocess.TimeoutExpired as e:
        return fn, 124, f"timed out after {timeout} s\n{e.stdout or ''}{e.stderr or ''}", time.time() - t0

def main(argv=None)->int:
    p = argparse.ArgumentParser(prog='run_notebooks.py', description=__doc__.split('\n\n')[0],
                                epilog=__doc__.split('\n\n', 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('notebooks', nargs='*', type=Path, help='module notebooks (default: nbs/[0-9]*.ipynb)')
    p.add_argument('--workers', type=int, default=1, help='notebooks run in parallel, one process each (default: 1)')
    p.add_argument('--dest', type=Path, default=None, help='write the executed notebooks here instead of in place')
    p.add_argument('--timeout', type=int, default=1800, help='seconds per notebook (default: 1800)')
    p.add_argument('--keep-going', action='store_true', help='run every notebook even after one fails')
    p.add_argument('--_one', type=Path, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a._one: return run_one(a._one, a.dest)
    nbs = [n.resolve() for n in a.notebooks] or module_notebooks()
    for n in nbs:
        if not n.is_file(): return _die(f"{n}: no such notebook")
        if 'tutorials' in n.parts: return _die(f"{n}: tutorials keep the outputs of their full-size run; not re-run")
    dest = a.dest.resolve() if a.dest else None
    failed, done, t0 = [], 0, time.time()
    with cf.ThreadPoolExecutor(max(1, a.workers)) as ex:
        futs = [ex.submit(_child, n, dest, a.timeout) for n in nbs]
        for f in cf.as_completed(futs):
            if f.cancelled(): continue
            fn, rc, log, secs = f.result()
            if rc == 0:
                done += 1
                print(log.rstrip(), flush=True)
                size = ((dest/fn.name) if dest else fn).stat().st_size
                if size > SIZE_BUDGET:
                    print(f"WARNING: {fn.name} is {size/1e6:.2f} MB with outputs, over the {SIZE_BUDGET/1e6} MB budget",
                          flush=True)
            else:
                failed.append(fn)
                print(f"FAILED {fn.name} (status {rc}, {secs:.0f} s); notebook left unchanged:\n{log.rstrip()}",
                      file=sys.stderr, flush=True)
                if not a.keep_going:
                    for g in futs: g.cancel()
    print(f"{done} of {len(nbs)} notebook(s) stored with outputs in {time.time() - t0:.0f} s"
          + (f"; failed: {', '.join(f.name for f in failed)}" if failed else ''))
    return 1 if failed else 0

def _die(msg:str)->int:
    print(f"run_notebooks: {msg}", file=sys.stderr)
    return 1

if __name__ == '__main__': sys.exit(main())
