"Tiny trained checkpoints (a CNN, a T-GEM, a k-mer BERT) and their small inputs, made once per test session and shared by the test files."
import json
from pathlib import Path

CNN = '''[data]
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

TGEM = '''[data]
dataset = "pbmc68k"
n_top_genes = 16
n_train = 200
n_valid = 40
n_test = 60

[model]
kind = "tgem"
n_heads = 1
n_layers = 1

[train]
epochs = 1
lr = 1e-2
device = "cpu"

[output]
checkpoint = "tgem.pt"
'''

BERT = '''[data]
dataset = "chip_oct4_mafk"
n_train = 60
n_valid = 20
n_test = 20

[model]
kind = "kmer_bert"
n_layers = 1
n_heads = 2
d_model = 16
d_ff = 32

[tokenizer]
k = 3

[train]
epochs = 1
lr = 1e-3
device = "cpu"

[output]
checkpoint = "bert.pt"
'''

def tiny_models(base:Path)->Path:
    "A folder under `base` holding cnn.pt, tgem.pt, bert.pt, peaks.fa (5 ChIP peaks named chrom:start-end) and cells.h5ad / cells.csv (20 PBMC cells); made on the first call."
    d = Path(base)/'genobook-tiny-models'
    done = d/'done.json'
    if done.exists(): return d
    import warnings
    from genobook.pipeline import train_model
    from genobook.datasets import load_dataset
    from genobook.seq import write_fasta
    d.mkdir(parents=True, exist_ok=True)
    for name, text in (('cnn', CNN), ('tgem', TGEM), ('bert', BERT)):
        (d/f'{name}.toml').write_text(text)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            train_model(d/f'{name}.toml')
    chip = load_dataset('chip_oct4_mafk')
    test = chip[chip.split == 'test'].iloc[:5]
    write_fasta(dict(zip(test.name, test.seq)), d/'peaks.fa')
    test[['name', 'seq', 'label', 'split']].to_csv(d/'peaks.csv', index=False)
    pb = load_dataset('pbmc68k')
    cells = pb[:20].copy()
    cells.write_h5ad(d/'cells.h5ad')
    import pandas as pd, numpy as np
    X = cells.X.toarray() if hasattr(cells.X, 'toarray') else np.asarray(cells.X)
    t = pd.DataFrame(X, index=cells.obs_names, columns=cells.var_names)
    t.insert(0, 'bulk_labels', cells.obs['bulk_labels'].astype(str).to_numpy())
    t.to_csv(d/'cells.csv', index_label='cell')
    done.write_text(json.dumps(sorted(p.name for p in d.iterdir())))
    return d
