"""The module notebooks are committed WITH their outputs (the nbdev convention), made by `python tools/run_notebooks.py`.

These checks read the STORED outputs of each notebook file; nothing is executed here (CI runs the notebooks with
nbdev-test, as before). Each module notebook `nbs/[0-9]*.ipynb` must
- have at least one code cell with stored outputs, and
- stay under the size budget of 1.5 MB (1,500,000 bytes, outputs included; `SIZE_BUDGET` in tools/run_notebooks.py).
Tutorials are not checked: they carry the outputs of their full-size run.
One test per notebook, named after it, so a subset can be checked with e.g. `-k "01_seq or 04_split"`.
"""
import json, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import run_notebooks  # noqa: E402

SIZE_BUDGET = 1_500_000  # bytes; the budget stated in tools/run_notebooks.py's docstring
NOTEBOOKS = run_notebooks.module_notebooks(ROOT/'nbs')


def test_budget_is_the_tools():
    assert run_notebooks.SIZE_BUDGET == SIZE_BUDGET
    assert '1.5 MB' in run_notebooks.__doc__


def test_there_are_module_notebooks():
    assert len(NOTEBOOKS) > 10 and not any('tutorials' in p.parts for p in NOTEBOOKS)


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs(nb):
    "The notebook file holds outputs (stored ones: this test runs nothing) and stays under the size budget."
    cells = json.loads(nb.read_text(encoding='utf-8'))['cells']
    with_out = [i for i, c in enumerate(cells) if c['cell_type'] == 'code' and c.get('outputs')]
    assert with_out, (f"{nb.name} has no stored outputs: run `python tools/run_notebooks.py {nb.relative_to(ROOT)}` "
                      "and commit the notebook with them")
    size = nb.stat().st_size
    assert size < SIZE_BUDGET, (f"{nb.name} is {size/1e6:.2f} MB with its outputs, over the {SIZE_BUDGET/1e6} MB budget: "
                                "make its examples print or plot less (smaller figures, head() of tables)")
    counts = [c.get('execution_count') for c in cells if c['cell_type'] == 'code']
    assert not any(counts), f"{nb.name} has execution counts: run nbdev-clean on it (run_notebooks.py does)"


def test_clean_outputs():
    "The tool's clean-up: progress bars, fastai's time column and random temporary folder names do not get stored."
    outs = [{'output_type': 'stream', 'name': 'stdout', 'text': ['█\r']},
            {'output_type': 'stream', 'name': 'stdout',
             'text': ['epoch     train_loss  valid_loss  time    \n', '0         0.693       0.690       00:01\n',
                      'Better model found at epoch 0 with valid_loss value: 0.69.\n', '1         0.611       0.655       00:00\n',
                      ' |████████████| 100.00% [16/16 00:00<00:00]\r\n',
                      f"{run_notebooks.tempfile.gettempdir()}/tmp1vv80chm/toy.fa\n"]},
            {'output_type': 'display_data', 'metadata': {}, 'data': {'text/html': ['<progress value="3" max="9"></progress>'],
                                                                     'text/plain': ['<IPython.core.display.HTML object>']}},
            {'output_type': 'display_data', 'metadata': {}, 'data': {'text/html': [
                '<table><thead><tr><th>epoch</th><th>valid_loss</th><th>time</th></tr></thead>'
                '<tbody><tr><td>0</td><td>0.5</td><td>00:02</td></tr></tbody></table>']}}]
    res = run_notebooks.clean_outputs(outs)
    assert len(res) == 2
    assert ''.join(res[0]['text']) == f"epoch     train_loss  valid_loss\n0         0.693       0.690\n" \
                                      "Better model found at epoch 0 with valid_loss value: 0.69.\n1         0.611       0.655\n" \
                                      f"{run_notebooks.tempfile.gettempdir()}/tmpXXXXXXXX/toy.fa\n"
    assert ''.join(res[1]['data']['text/html']) == ('<table><thead><tr><th>epoch</th><th>valid_loss</th></tr></thead>'
                                                    '<tbody><tr><td>0</td><td>0.5</td></tr></tbody></table>')


def test_refuses_tutorials(capsys):
    tut = next((ROOT/'nbs'/'tutorials').glob('*.ipynb'))
    assert run_notebooks.main([str(tut)]) == 1
    assert 'tutorials keep the outputs' in capsys.readouterr().err


def test_run_notebooks_end_to_end(tmp_path):
    "The tool on a tiny notebook: default-pass cells get their outputs (a 72-dpi PNG for a plot), `slow` and "
    "`output: false` cells none, no execution counts, sources unchanged; a failing notebook is left as it was."
    import base64, io, subprocess
    def nb(*srcs):
        cells = [dict(cell_type='code', id=f'c{i}', metadata={}, execution_count=None, outputs=[], source=s)
                 for i, s in enumerate(srcs)]
        return json.dumps(dict(cells=cells, nbformat=4, nbformat_minor=5,
                               metadata=dict(kernelspec=dict(name='python3', language='python', display_name='python3'))))
    (tmp_path/'pyproject.toml').write_text('[project]\nname = "tiny"\n\n[tool.nbdev]\nlib_path = "tiny"\nnbs_path = "."\n'
                                           'tst_flags = "notest slow"\n')
    ok = tmp_path/'00_tiny.ipynb'
    ok.write_text(nb('print("hello", 6 * 7)', '#| slow\nprint("slow")', '#| output: false\n1.25',
                     'import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 3)); ax.plot([1, 3, 2]);'))
    bad = tmp_path/'01_bad.ipynb'
    bad.write_text(nb('print("before")', 'raise ValueError("boom")'))
    before = bad.read_text()
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'run_notebooks.py'), str(ok), str(bad), '--workers', '2', '--keep-going'],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 1 and 'FAILED 01_bad.ipynb' in r.stderr and 'boom' in r.stderr, r.stdout + r.stderr
    assert bad.read_text() == before
    cells = json.loads(ok.read_text())['cells']
    assert [c['source'] if isinstance(c['source'], str) else ''.join(c['source']) for c in cells][0] == 'print("hello", 6 * 7)'
    assert ''.join(cells[0]['outputs'][0]['text']) == 'hello 42\n'
    assert cells[1]['outputs'] == [] and cells[2]['outputs'] == []
    png = [o['data']['image/png'] for o in cells[3]['outputs'] if 'image/png' in o.get('data', {})]
    assert len(png) == 1
    from PIL import Image
    w, h = Image.open(io.BytesIO(base64.b64decode(''.join(png[0])))).size
    assert w <= 4 * run_notebooks.DPI + 10 and h <= 3 * run_notebooks.DPI + 10, (w, h)  # 72 dpi, not 2x retina
    assert not any(c.get('execution_count') for c in cells)
