"The console script as a user runs it: exit statuses, messages, no tracebacks, files that read back."
import os, subprocess, sys, shutil, json, io, contextlib
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent/'bad_inputs'))

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

from tiny_models import CNN as CONFIG   # the tiny CNN config the bad-input corpus and the README test use too

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
    assert rows[0].startswith('# genobook predict cnn.pt: class probabilities')          # what the values are
    assert rows[1] == 'name,MafK,Oct4,predicted' and [l.split(',')[0] for l in rows[2:]] == names

def test_ism_and_tracks(trained):
    d, names = trained
    r = _run('ism', str(d/'cnn.pt'), str(d/'peaks.fa'), '--out', str(d/'ism.npz'), '--start', '90', '--end', '110')
    assert r.returncode == 0, r.stderr
    assert len((d/'ism.tsv').read_text().splitlines()) == 2 + 3 * 20 * 2          # comment, header, records x positions x outputs
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


# ---- issue 17: messages, switches, grouped and labelled outputs, input checks

from tiny_models import tiny_models

@pytest.fixture(scope='session')
def tiny(tmp_path_factory): return tiny_models(tmp_path_factory.getbasetemp())

def _main(*args, cwd=None):
    "`genobook ARGS` in this process (fast): (status, stdout, stderr)."
    from genobook.cli import main
    out, err, old = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        if cwd: os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main(list(map(str, args)))
    finally: os.chdir(old)
    return rc, out.getvalue(), err.getvalue()

def test_library_warnings_are_one_cli_line(tmp_path, tiny):
    "A ConfigWarning prints as 'genobook train: warning: ...' on one line, not in Python's warnings format."
    (tmp_path/'cap.toml').write_text((tiny/'cnn.toml').read_text().replace('n_test = 50', 'n_test = 5000'))
    r = _run('train', str(tmp_path/'cap.toml'))
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert lines and all(l.startswith('genobook train: warning: ') for l in lines), r.stderr
    assert 'data.n_test = 5000 in cap.toml' in r.stderr and 'ConfigWarning' not in r.stderr and 'warnings.warn' not in r.stderr
    assert f"wrote checkpoint {tmp_path/'cnn.pt'} and metrics {tmp_path/'metrics.json'}" in r.stdout   # train says where

def test_errors_name_cli_flags_and_leave_nothing(trained, tmp_path):
    d, _ = trained
    rc, o, e = _main('tracks', d/'cnn.pt', d/'peaks.fa', '--base-url', 'not a url', '--out', tmp_path/'new'/'t.bedGraph')
    assert rc == 2 and "--base-url 'not a url' must be an http://" in e and 'base_url=' not in e, e
    assert not (tmp_path/'new').exists()
    from genobook.cli import cli_message
    assert cli_message("raise max_len, crop the sequences, or pass truncate=True to keep the first 98 3-mers.", 'predict') == \
        "crop the records to fit the model (at most 98 3-mers)."
    assert "--device cpu" in cli_message("CUDA is not available here: use device='cpu' or None.", 'predict')

def test_no_python_warning_leaks(tiny, tmp_path):
    "No torch 'not writable' warning under attribute --rnk, no pandas FutureWarning under datasets, and class names, not indices."
    rc, o, e = _main('attribute', tiny/'tgem.pt', tiny/'cells.h5ad', '--method', 'saliency', '--rnk', '--out', tmp_path/'a.npz')
    assert rc == 0, e
    assert 'not writable' not in e and 'Class(es)' not in e, e
    assert all(l.startswith('genobook attribute: warning: no record is explained as ') for l in e.splitlines() if l.strip()), e
    code = "import warnings, genobook.cli as c; warnings.simplefilter('error', FutureWarning); c.datasets_cmd('crp_sites,pbmc68k')"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'FutureWarning' not in r.stderr, r.stderr[-2000:]

def test_boolean_options_are_switches_and_choices_listed(trained):
    d, _ = trained
    from genobook.cli import command_parser
    assert command_parser('attribute').parse_args(['c.pt', 'x.fa', '--rnk']).rnk is True
    m = command_parser('motifs').parse_args(['c.pt', '--tomtom', '--no-trim']); assert (m.tomtom, m.trim) == (True, False)
    rc, o, e = _main('attribute', d/'cnn.pt', d/'peaks.fa', '--rnk', 'True')
    assert rc == 2 and 'unrecognized arguments: True' in e and e.count('\n') == 1, e
    h = _run('attribute', '--help').stdout
    assert 'deeplift_shap' in h and 'saliency' in h and 'genobook.attr.METHODS' not in h

def test_train_show_config_lists_every_key():
    from genobook.pipeline import config_schema
    for kind in ('cnn', 'tgem'):
        r = _run('train', '--show-config', kind)
        assert r.returncode == 0, r.stderr
        for row in config_schema(kind).itertuples():
            assert f'  {row.key} ({row.type}' in r.stdout, (kind, row.key)
    assert 'epochs (int = 1): Passes over the training rows' in r.stdout

@pytest.mark.parametrize('args,needle', [
    (['attribute', '{d}/cnn.pt', '{d}/unnamed.fa', '--out', '{o}/ok/b.npz', '--bedgraph', '{o}/ok/b.bedGraph'], 'peak_one'),
    (['attribute', '{d}/cnn.pt', '{d}/peaks.fa', '--out', '{o}/ok/b.npz', '--bedgraph', '{o}/ok/b.bed'], 'does not end in .bedgraph'),
    (['tracks', '{d}/cnn.pt', '{d}/peaks.fa', '--base-url', 'not a url', '--out', '{o}/t/x.bedGraph'], '--base-url'),
    (['predict', '{d}/cnn.pt', '{d}/missing.fa', '--out', '{o}/newdir/x.csv'], 'No input file'),
    (['ism', '{d}/cnn.pt', '{d}/peaks.fa', '--start', '150', '--end', '50', '--out', '{o}/i/x.npz'], 'start < end'),
    (['entropy', '{d}/cnn.pt', '{d}/peaks.fa', '--out', '{o}/e/x.csv'], 'no attention'),
    (['motifs', '{d}/cnn.pt', '--fasta', '{d}/unnamed_short.fa', '--out', '{o}/m/k.meme', '--tomtom'], 'length'),
    (['fetch', 'chip_oct4_mafk', '--out', '{o}/f/x.bam'], 'does not end in'),
])
def test_failed_commands_leave_the_output_folder_as_it_was(trained, tmp_path, args, needle):
    "Each command run into failure at a different point: exit 2, and the output folder holds exactly what it held before."
    d, _ = trained
    (d/'unnamed.fa').write_text('>peak_one\n' + 'ACGT' * 50 + '\n')
    (d/'unnamed_short.fa').write_text('>chr1:1-41\n' + 'ACGT' * 10 + '\n')
    (tmp_path/'keep.txt').write_text('kept')
    before = sorted(map(str, tmp_path.rglob('*')))
    rc, o, e = _main(*[a.format(d=d, o=tmp_path) for a in args])
    assert rc == 2 and needle in e, e
    assert sorted(map(str, tmp_path.rglob('*'))) == before

def test_outputs_are_labelled(trained, tiny, tmp_path):
    import numpy as np, pandas as pd
    d, names = trained
    rc, o, e = _main('attribute', d/'cnn.pt', d/'peaks.fa', '--target', 'Oct4', '--n-steps', '4', '--out', tmp_path/'a.npz')
    z = np.load(tmp_path/'a.npz')
    assert rc == 0 and z['target_name'].tolist() == ['Oct4'] * 3 and str(z['output']) == 'logit' and z['labels'].tolist() == ['MafK', 'Oct4']
    rc, o, e = _main('attribute', tiny/'tgem.pt', tiny/'cells.h5ad', '--method', 'saliency', '--out', tmp_path/'t.npz')
    z = np.load(tmp_path/'t.npz')
    from genobook.models.io import read_checkpoint
    assert z['genes'].tolist() == read_checkpoint(tiny/'tgem.pt')['contract']['genes'] and len(z['labels']) == 10
    rc, o, e = _main('entropy', tiny/'tgem.pt', tiny/'cells.h5ad', '--out', tmp_path/'e.csv')
    ent = pd.read_csv(tmp_path/'e.csv', comment='#', index_col='layer')
    assert rc == 0 and ent.index.tolist() == ['layer 0'] and ent.columns.tolist() == ['head 0']
    rc, o, e = _main('attention', tiny/'tgem.pt', tiny/'cells.h5ad', '--out', tmp_path/'att.npz')
    z = np.load(tmp_path/'att.npz')
    assert not bool(z['rows_sum_to_one']) and 'diagonal' in str(z['note']) and str(z['axes']) == 'record, layer, head, query, key'
    _main('ism', d/'cnn.pt', d/'peaks.fa', '--start', '0', '--end', '5', '--out', tmp_path/'i.npz')
    assert str(np.load(tmp_path/'i.npz')['output']) == 'logit' and (tmp_path/'i.tsv').read_text().startswith('# genobook ism of cnn.pt')

def test_target_label_explains_the_true_class(tiny, tmp_path):
    import numpy as np, anndata
    rc, o, e = _main('attribute', tiny/'tgem.pt', tiny/'cells.h5ad', '--method', 'saliency', '--target', 'label', '--out', tmp_path/'a.npz')
    assert rc == 0, e
    assert np.load(tmp_path/'a.npz')['target_name'].tolist() == anndata.read_h5ad(tiny/'cells.h5ad').obs['bulk_labels'].astype(str).tolist()
    rc, o, e = _main('network', tiny/'tgem.pt', tiny/'cells.h5ad', 'Dendritic', '--target', 'label', '--max-samples', '4', '--n-steps', '4', '--out', tmp_path/'n.graphml')
    assert rc == 0 and 'cells labelled as Dendritic' in o, e

def test_predict_refuses_input_far_from_the_training_input(tiny, tmp_path):
    import anndata, numpy as np
    ad = anndata.read_h5ad(tiny/'cells.h5ad')
    X = ad.X.toarray() if hasattr(ad.X, 'toarray') else np.asarray(ad.X)
    ad.X = np.round(np.exp(np.clip(X, -5, 8)) * 1e6 + 4e10); ad.write_h5ad(tmp_path/'counts.h5ad')
    rc, o, e = _main('predict', tiny/'tgem.pt', tmp_path/'counts.h5ad', '--out', tmp_path/'p.csv')
    assert rc == 2 and 'does not look like the training input' in e and '--allow-unusual' in e and not (tmp_path/'p.csv').exists(), e
    rc, o, e = _main('predict', tiny/'tgem.pt', tmp_path/'counts.h5ad', '--out', tmp_path/'p.csv', '--allow-unusual')
    assert rc == 0 and (tmp_path/'p.csv').exists() and e.startswith('genobook predict: warning: counts.h5ad does not look like'), e
    rc, o, e = _main('predict', tiny/'tgem.pt', tiny/'cells.h5ad', '--out', tmp_path/'q.csv')
    assert rc == 0 and e == '', e                                                   # real cells pass

def test_token_models_refuse_unknown_letters(tiny, tmp_path):
    (tmp_path/'prot.fa').write_text('>chr1:0-200\n' + 'MKVLAT' * 33 + 'MK\n')
    rc, o, e = _main('predict', tiny/'bert.pt', tmp_path/'prot.fa', '--out', tmp_path/'p.csv')
    assert rc == 2 and "Invalid character 'M' in record 0 ('chr1:0-200')" in e and '--lenient' in e and not (tmp_path/'p.csv').exists(), e
    rc, o, e = _main('predict', tiny/'bert.pt', tmp_path/'prot.fa', '--out', tmp_path/'p.csv', '--lenient')
    assert rc == 0 and (tmp_path/'p.csv').exists(), e

def test_tracks_ism_passes_a_mutant_batch(trained, tmp_path, monkeypatch):
    "`tracks --batch-size` counts records: ISM gets their mutants per forward pass (at least 256), not 64 mutants."
    import genobook.ism
    d, _ = trained
    seen, real = [], genobook.ism.ism
    monkeypatch.setattr(genobook.ism, 'ism', lambda *a, batch_size=256, **k: (seen.append(batch_size), real(*a, batch_size=batch_size, **k))[1])
    rc, o, e = _main('tracks', d/'cnn.pt', d/'peaks.fa', '--method', 'ism', '--batch-size', '64', '--out', tmp_path/'x.bedGraph')
    assert rc == 0 and seen and seen[0] >= 256 * 4, (seen, e)

def test_fetch_csv_trains_and_predicts_and_checkpoints_hold_no_local_path(trained, tmp_path):
    d, _ = trained
    r = _run('fetch', 'chip_oct4_mafk', '--out', str(tmp_path/'data'/'chip.csv'))
    assert r.returncode == 0, r.stderr
    (tmp_path/'c.toml').write_text(CONFIG.replace('dataset = "chip_oct4_mafk"', 'sequences = "data/chip.csv"\nlabel = "label"'))
    rc, o, e = _main('train', tmp_path/'c.toml')
    assert rc == 0, e
    from genobook.models.io import read_checkpoint
    meta = read_checkpoint(tmp_path/'cnn.pt')
    assert meta['extras']['data_config']['sequences'] == 'data/chip.csv' and meta['extras']['data_files']['sequences']['name'] == 'chip.csv'
    assert str(tmp_path) not in json.dumps(meta)
    rc, o, e = _main('predict', tmp_path/'cnn.pt', tmp_path/'data'/'chip.csv', '--out', tmp_path/'p.csv')
    assert rc == 0, e
