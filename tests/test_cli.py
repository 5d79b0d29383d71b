"The console script as a user runs it: exit statuses, messages, no tracebacks, files that read back."
import os, subprocess, sys, shutil, json
from pathlib import Path
import pytest

def _run(*args, cwd=None):
    exe = shutil.which('genobook') or str(Path(sys.executable).parent/'genobook')
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300, cwd=cwd)

def _user_error(r, *needles):
    "Exit status 2, one line on stderr naming what is wrong, and no traceback."
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert r.stderr.startswith('genobook ') and 'error:' in r.stderr, r.stderr
    for n in needles: assert n in r.stderr, (n, r.stderr)

def test_help_lists_commands():
    r = _run('--help')
    assert r.returncode == 0
    for c in ('datasets', 'fetch', 'train', 'predict', 'attribute', 'ism', 'tism', 'tracks', 'motifs', 'attention', 'entropy', 'network'):
        assert f'  {c} ' in r.stdout, c

def test_help_does_not_import_torch():
    code = "import sys, genobook.cli as c; c.main(['--help']); assert 'torch' not in sys.modules, 'torch imported'"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr

def test_command_help():
    r = _run('predict', '--help')
    assert r.returncode == 0 and 'checkpoint' in r.stdout and '--out' in r.stdout

def test_no_command_is_an_error():
    r = _run()
    assert r.returncode == 2 and 'usage: genobook' in r.stdout

def test_unknown_command():
    r = _run('fly')
    assert r.returncode == 2 and "unknown command 'fly'" in r.stderr

def test_datasets_fetches_and_tabulates():
    r = _run('datasets', '--names', 'crp_sites')
    assert r.returncode == 0, r.stderr
    assert 'crp_sites' in r.stdout and 'cache:' in r.stdout

def test_datasets_bad_name_exits_nonzero_with_clear_message():
    r = _run('datasets', '--names', 'pbmc68')
    assert r.returncode == 2
    assert 'pbmc68' in r.stderr and 'Traceback' not in r.stderr

CONFIG = '''
[data]
dataset = "chip_oct4_mafk"
n_train = 200
n_valid = 50
n_test = 50

[model]
kind = "cnn"
n_kernels = 4
kernel_size = 9
dilations = [1]
fc = [8]

[train]
epochs = 1
lr = 5e-3
device = "cpu"

[output]
checkpoint = "cnn.pt"
metrics = "metrics.json"
'''

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "A tiny CNN trained through the console script, and a FASTA of three ChIP peaks named by their coordinates."
    d = tmp_path_factory.mktemp('cli')
    (d/'cnn.toml').write_text(CONFIG)
    r = _run('train', str(d/'cnn.toml'))
    assert r.returncode == 0, r.stderr[-3000:]
    r = _run('fetch', 'chip_oct4_mafk', '--out', str(d/'chip.fa'))
    assert r.returncode == 0, r.stderr[-3000:]
    lines = (d/'chip.fa').read_text().splitlines()
    recs, name = {}, None
    for l in lines:
        if l.startswith('>'): name = l[1:].split()[0]; recs[name] = ''
        else: recs[name] += l
    few = list(recs.items())[:3]
    (d/'peaks.fa').write_text(''.join(f'>{n}\n{s}\n' for n, s in few))
    return d, [n for n, _ in few]

def test_train_writes_checkpoint_and_metrics(trained):
    d, _ = trained
    m = json.loads((d/'metrics.json').read_text())
    assert m['task'] == 'classification' and m['n_test'] == 50 and 0 <= m['test']['accuracy'] <= 1
    assert (d/'cnn.pt').stat().st_size > 0
    side = (d/'chip.csv').read_text().splitlines()
    assert side[0].split(',')[0] == 'name' and 'label' in side[0]

def test_predict_writes_one_row_per_record(trained):
    d, names = trained
    r = _run('predict', str(d/'cnn.pt'), str(d/'peaks.fa'), '--out', str(d/'preds.csv'))
    assert r.returncode == 0, r.stderr
    rows = (d/'preds.csv').read_text().splitlines()
    assert rows[0] == 'name,MafK,Oct4,predicted' and [l.split(',')[0] for l in rows[1:]] == names

def test_ism_and_tracks(trained):
    d, names = trained
    r = _run('ism', str(d/'cnn.pt'), str(d/'peaks.fa'), '--out', str(d/'ism.npz'), '--start', '90', '--end', '110')
    assert r.returncode == 0, r.stderr
    assert len((d/'ism.tsv').read_text().splitlines()) == 1 + 3 * 20 * 2          # records x positions x outputs
    r = _run('tracks', str(d/'cnn.pt'), str(d/'peaks.fa'), '--method', 'saliency', '--target', 'Oct4',
             '--out', str(d/'sal.bedGraph'), '--base-url', 'https://example.org/t/')
    assert r.returncode == 0, r.stderr
    assert (d/'sal.bedGraph').read_text().startswith('track type=bedGraph')
    assert 'https://example.org/t/sal.bedGraph' in (d/'sal.bedGraph.urls.txt').read_text()

def test_user_errors_are_one_line(trained):
    d, _ = trained
    (d/'unnamed.fa').write_text('>peak_one\n' + 'ACGT' * 50 + '\n')
    (d/'bad.toml').write_text(CONFIG.replace('n_kernels', 'kernels'))
    _user_error(_run('predict', str(d/'missing.pt'), str(d/'peaks.fa')), 'No checkpoint at')
    _user_error(_run('predict', str(d/'cnn.toml'), str(d/'peaks.fa')), 'not a readable genobook checkpoint')
    _user_error(_run('attribute', str(d/'cnn.pt'), str(d/'peaks.fa'), '--target', 'Sox2', '--out', str(d/'a.npz')), 'Sox2', 'MafK')
    _user_error(_run('tracks', str(d/'cnn.pt'), str(d/'unnamed.fa'), '--out', str(d/'u.bedGraph')), 'peak_one')
    _user_error(_run('entropy', str(d/'cnn.pt'), str(d/'peaks.fa'), '--out', str(d/'e.csv')), 'no attention')
    _user_error(_run('train', str(d/'bad.toml')), "Unknown key 'kernels'", 'n_kernels')


def test_command_functions_do_not_shadow_library_names():
    "Each command's function is `<command>_cmd`, so `from genobook.cli import *` never hides genobook.core.predict & co."
    from genobook.cli import COMMANDS
    named = {n: f.__name__ for n, f in COMMANDS.items() if callable(f)}
    assert named and all(f == f'{n}_cmd' for n, f in named.items()), named

def test_predict_refuses_a_damaged_checkpoint(trained):
    "400 bytes flipped inside a copy of the checkpoint (in the weights; in the zip directory): exit 2, one line, nothing written."
    d, _ = trained
    raw = (d/'cnn.pt').read_bytes()
    for i, off in enumerate((len(raw) // 2, len(raw) - 450)):
        b = bytearray(raw); b[off:off + 400] = bytes(x ^ 0xFF for x in b[off:off + 400])
        (d/f'flip{i}.pt').write_bytes(bytes(b))
        out = d/f'flip{i}.csv'
        r = _run('predict', str(d/f'flip{i}.pt'), str(d/'peaks.fa'), '--out', str(out))
        _user_error(r, f'flip{i}.pt is damaged: ', 're-save the model, re-train it')
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not out.exists()


@pytest.mark.parametrize('old,new,needle', [
    ('lr = 5e-3', 'lr = -0.01', 'train.lr = -0.01 in bad.toml: must be a number > 0'),
    ('lr = 5e-3', 'lr = 0', 'train.lr = 0 in bad.toml: must be a number > 0'),
    ('epochs = 1', 'epochs = 0', 'train.epochs = 0 in bad.toml: must be an integer >= 1'),
    ('epochs = 1', 'epochs = 1.5', 'train.epochs = 1.5 in bad.toml: must be an integer >= 1'),
    ('epochs = 1', 'epochs = "ten"', 'train.epochs = "ten" in bad.toml: must be an integer >= 1'),
    ('lr = 5e-3', 'lr = 5e-3\nbatch_size = -4', 'train.batch_size = -4 in bad.toml: must be an integer >= 1'),
    ('n_train = 200', 'n_train = -5', 'data.n_train = -5 in bad.toml: must be an integer >= 1')])
def test_train_refuses_nonsense_config_values(tmp_path, old, new, needle):
    "A config value of the wrong type or out of range: exit 2, one line naming the key, the file and what is allowed; no checkpoint."
    assert CONFIG.count(old) == 1, old
    (tmp_path/'bad.toml').write_text(CONFIG.replace(old, new))
    r = _run('train', str(tmp_path/'bad.toml'))
    _user_error(r, needle)
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path/'cnn.pt').exists() and not (tmp_path/'metrics.json').exists()
