"`genobook quickstart` end to end in a fresh process, at the hidden `tiny` size: exit status, printed summary, files."
import json, re, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path


def _py(code, *args, cwd=None, timeout=900):
    return subprocess.run([sys.executable, '-c', code, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(); self.links = []
    def handle_starttag(self, tag, attrs): self.links += [(tag, v) for k, v in attrs if k in ('href', 'src')]


def test_tiny_report(tmp_path):
    out = tmp_path/'report'
    code = "import sys; from genobook.quickstart import make_report; make_report(sys.argv[1], 'tiny', seed=1, device='cpu')"
    r = _py(code, out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"Report: {out/'index.html'}" in r.stdout
    assert re.search(r'\[13/13\] report: metrics.json and index.html \.\.\. [\d.]+ s', r.stdout), r.stdout[-2000:]
    for model in ('T-GEM', 'logistic regression', 'SeqCNN', '4-mer logistic regression'): assert model in r.stdout
    m = json.loads((out/'metrics.json').read_text())
    assert (m['format'], m['run']['size'], m['run']['seed']) == ('genobook-quickstart', 'tiny', 1)
    for sec in ('tgem', 'cnn'):
        for part in ('test', 'baseline'):
            assert 0 <= m[sec][part]['accuracy'] <= 1 and 0 <= m[sec][part]['auroc'] <= 1
    p = _Links(); p.feed((out/'index.html').read_text())
    assert p.links and not [v for t, v in p.links if re.match(r'(https?:)?//', v)]
    files = {str(f.relative_to(out)) for f in out.rglob('*') if f.is_file()}
    assert {v for t, v in p.links} | {'index.html'} == files
    assert [f.name for f in tmp_path.iterdir()] == ['report']          # no temporary folder left


def test_refuses_user_folder(tmp_path):
    mine = tmp_path/'mine'; mine.mkdir(); (mine/'notes.txt').write_text('keep')
    r = subprocess.run([sys.executable, '-m', 'genobook.quickstart', '--out', str(mine)], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and 'never overwrites other files' in r.stderr, r.stderr[-2000:]
    assert [f.name for f in mine.iterdir()] == ['notes.txt'] and (mine/'notes.txt').read_text() == 'keep'
