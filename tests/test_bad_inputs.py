"The bad-input corpus (tests/bad_inputs/) through the console script: each file gives exit status 2, one line on stderr with the expected fragment, no traceback, and nothing written."
import os, io, sys, shutil, subprocess, contextlib, traceback
from typing import NamedTuple
from pathlib import Path
import pytest

HERE = Path(__file__).parent/'bad_inputs'
sys.path.insert(0, str(HERE))
from tiny_models import tiny_models

# (corpus file, command line ({f}: the file, {m}: the tiny models' folder, {o}: a fresh output folder), expected fragment)
CASES = [
    ('fasta/protein.fa', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "Invalid character 'M' in record 0 ('chr1:100-300')"),
    ('fasta/protein.fa', 'predict {m}/bert.pt {f} --out {o}/p.csv', "or pass --lenient to read unknown letters as [UNK]"),
    ('fasta/wrong_length.fa', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "has length 150, the model takes 200"),
    ('fasta/empty.fa', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "holds no FASTA record"),
    ('fasta/damaged.fa.gz', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "is not a readable FASTA file (its compression is damaged)"),
    ('fasta/binary.fa', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "could not be read as (gzipped) text"),
    ('fasta/duplicate_names.fa', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "a record's name is the first word of its FASTA header"),
    ('fasta/no_header.fa', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "sequence line before any '>' header"),
    ('fasta/iupac.fa', 'attribute {m}/cnn.pt {f} --out {o}/a.npz', "Invalid character 'R'"),
    ('fasta/gaps.fa', 'ism {m}/cnn.pt {f} --out {o}/i.npz', "Invalid character '-'"),
    ('fasta/unnamed_regions.fa', 'tracks {m}/cnn.pt {f} --out {o}/t.bedGraph', "'peak_one'"),
    ('fasta/unnamed_regions.fa', 'attribute {m}/cnn.pt {f} --out {o}/a.npz --bedgraph {o}/b.bedGraph', "'peak_one'"),
    ('fasta/empty_record.fa', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "has length 0, the model takes 200"),
    ('fasta/rna_protein_mix.csv', 'predict {m}/bert.pt {f} --out {o}/p.csv', "Invalid character 'M' in record 1 ('chr1:300-500')"),
    ('fasta/no_seq_column.csv', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "has no 'seq' column"),
    ('fasta/wrong_suffix.txt', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "is not a FASTA file"),
    ('fasta/protein.fa', 'predict {m}/tgem.pt {f} --out {o}/p.csv', "is not an .h5ad, .csv or .tsv file"),
    ('expression/missing_genes.csv', 'predict {m}/tgem.pt {f} --out {o}/p.csv', "missing"),
    ('expression/nan_value.csv', 'predict {m}/tgem.pt {f} --out {o}/p.csv', "is not a finite number"),
    ('expression/infinite_value.csv', 'predict {m}/tgem.pt {f} --out {o}/p.csv', "is not a finite number"),
    ('expression/text_value.csv', 'predict {m}/tgem.pt {f} --out {o}/p.csv', "is not numeric"),
    ('expression/raw_counts.csv', 'predict {m}/tgem.pt {f} --out {o}/p.csv', "does not look like the training input"),
    ('expression/not_h5ad.h5ad', 'predict {m}/tgem.pt {f} --out {o}/p.csv', "is not a readable h5ad file"),
    ('expression/empty.csv', 'predict {m}/tgem.pt {f} --out {o}/p.csv', "is not a readable table"),
    ('expression/cells.xlsx', 'predict {m}/tgem.pt {f} --out {o}/p.csv', "is not an .h5ad, .csv or .tsv file"),
    ('expression/no_label_column.csv', 'attribute {m}/tgem.pt {f} --target label --out {o}/a.npz', "--target label reads each record's class from the input's 'bulk_labels' column"),
    ('expression/unknown_label.csv', 'network {m}/tgem.pt {f} "CD14+ Monocyte" --target label --out {o}/n.graphml', "['Astrocyte'], which are not classes of this model"),
    ('expression/missing_genes.csv', 'predict {m}/cnn.pt {f} --out {o}/p.csv', "has no 'seq' column: give a FASTA file"),
    ('configs/negative_lr.toml', 'train {f}', "train.lr = -0.01 in negative_lr.toml: must be a number > 0"),
    ('configs/zero_lr.toml', 'train {f}', "train.lr = 0 in zero_lr.toml: must be a number > 0"),
    ('configs/zero_epochs.toml', 'train {f}', "train.epochs = 0 in zero_epochs.toml: must be an integer >= 1"),
    ('configs/fractional_epochs.toml', 'train {f}', "train.epochs = 1.5 in fractional_epochs.toml: must be an integer >= 1"),
    ('configs/epochs_as_text.toml', 'train {f}', 'train.epochs = "ten" in epochs_as_text.toml: must be an integer >= 1'),
    ('configs/negative_batch_size.toml', 'train {f}', "train.batch_size = -4 in negative_batch_size.toml: must be an integer >= 1"),
    ('configs/negative_n_train.toml', 'train {f}', "data.n_train = -5 in negative_n_train.toml: must be an integer >= 1"),
    ('configs/unknown_key.toml', 'train {f}', "Unknown key 'kernels' in [model]"),
    ('configs/unknown_table.toml', 'train {f}', "Unknown key 'training'"),
    ('configs/unknown_kind.toml', 'train {f}', 'model.kind = "rnn" in unknown_kind.toml: choose one of'),
    ('configs/two_sources.toml', 'train {f}', "needs exactly one of dataset, fasta (+ labels), sequences or expression"),
    ('configs/missing_fasta.toml', 'train {f}', "no_such.fa: no such file"),
    ('configs/bad_device.toml', 'train {f}', 'train.device = "gpu7" in bad_device.toml'),
    ('configs/valid_plus_test.toml', 'train {f}', "data.valid + data.test = 1.1 in valid_plus_test.toml: must be < 1"),
    ('configs/wrong_checkpoint_suffix.toml', 'train {f}', "does not end in .pt"),
    ('configs/negative_kernels.toml', 'train {f}', "model.n_kernels = -3 in negative_kernels.toml"),
    ('configs/broken.toml', 'train {f}', "is not valid TOML"),
    ('configs/config.yaml', 'train {f}', "is neither .toml nor .json"),
    ('configs/not_an_object.json', 'train {f}', "must hold a table/object"),
    ('checkpoints/text.pt', 'predict {f} {m}/peaks.fa --out {o}/p.csv', "is not a readable genobook checkpoint"),
    ('checkpoints/flipped_bytes.pt', 'predict {f} {m}/peaks.fa --out {o}/p.csv', "flipped_bytes.pt is damaged: its contents do not match the checksum"),
    ('checkpoints/truncated.pt', 'predict {f} {m}/peaks.fa --out {o}/p.csv', "truncated.pt is damaged: "),
    ('checkpoints/state_dict.pt', 'predict {f} {m}/peaks.fa --out {o}/p.csv', "is a torch file but not a genobook checkpoint"),
    ('checkpoints/future_format.pt', 'predict {f} {m}/peaks.fa --out {o}/p.csv', "upgrade genobook"),
    ('checkpoints/unknown_class.pt', 'predict {f} {m}/peaks.fa --out {o}/p.csv', "NoSuchModel no longer exists"),
]

@pytest.fixture(scope='session')
def models(tmp_path_factory): return tiny_models(tmp_path_factory.getbasetemp())

class Run(NamedTuple):
    returncode:int; stdout:str; stderr:str

def _genobook(args, cwd, console=False):
    "`genobook ARGS` run in `cwd`: in this process through `genobook.cli.main` (fast), or as the console script."
    if console:
        exe = shutil.which('genobook') or str(Path(sys.executable).parent/'genobook')
        r = subprocess.run([exe, *args], capture_output=True, text=True, timeout=300, cwd=cwd)
        return Run(r.returncode, r.stdout, r.stderr)
    from genobook.cli import main
    out, err, old = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: rc = main(list(args))
            except Exception: err.write(traceback.format_exc()); rc = 1
    finally: os.chdir(old)
    return Run(rc, out.getvalue(), err.getvalue())

def test_corpus_is_complete():
    "Every corpus file is used by a case, and there are at least 30 files across FASTA, tables, configs and checkpoints."
    files = {str(p.relative_to(HERE)) for p in HERE.rglob('*') if p.is_file() and p.suffix != '.py' and '__pycache__' not in p.parts and p.name != 'README.md'}
    used = {f for f, _, _ in CASES}
    assert files == used, (files - used, used - files)
    assert len(files) >= 30 and {f.split('/')[0] for f in files} == {'fasta', 'expression', 'configs', 'checkpoints'}

CONSOLE = {'fasta/protein.fa', 'configs/negative_lr.toml', 'checkpoints/flipped_bytes.pt'}   # also run as the console script

@pytest.mark.parametrize('file,line,fragment', CASES, ids=[f'{f}:{l.split()[0]}' for f, l, _ in CASES])
def test_bad_input(models, tmp_path, file, line, fragment):
    import shlex
    src = HERE/file
    work = tmp_path/'work'; work.mkdir()
    f = work/src.name; shutil.copy(src, f)           # configs write next to themselves: run on a copy
    if file.startswith('configs/'): shutil.copy(models/'peaks.fa', work/'peaks.fa')
    before = sorted(p.name for p in work.iterdir())
    out = tmp_path/'out'                              # does not exist: a failed command must not create it
    r = _genobook(shlex.split(line.format(f=f, m=models, o=out/'sub')), cwd=work, console=file in CONSOLE)
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert lines[0].startswith('genobook ') and ': error: ' in lines[0], lines[0]
    assert fragment in lines[0], (fragment, lines[0])
    assert not out.exists(), sorted(map(str, out.rglob('*')))
    assert sorted(p.name for p in work.iterdir()) == before   # nothing written next to the input either
