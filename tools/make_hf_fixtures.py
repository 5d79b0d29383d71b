"""Build the tiny Hugging Face BERT checkpoints and reference outputs under tests/fixtures/hf_bert/.

genobook loads BERT/DNABERT checkpoints saved in the Hugging Face layout (`config.json` + `model.safetensors` or
`pytorch_model.bin`) without importing `transformers`. To prove the key mapping is right we need outputs computed
by the real `transformers` library, once, and committed. `transformers` is not (and must not become) a genobook
dependency, so this script runs in a separate, throwaway virtual environment outside the repository (no
torchvision, no genobook): it reads the chip_oct4_mafk test FASTA files straight from the genobook data cache and
tokenises them itself, exactly as DNABERT does (overlapping 3-mers, vocab.txt in ATCG order); the tests check that
`genobook.tokenize.KmerTokenizer(3, alphabet='ATCG')` gives the same ids.

Run it from the repository root (after `genobook.datasets.fetch('chip_oct4_mafk')` has filled the cache):

    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install torch==2.13.0 transformers safetensors
    /tmp/hfvenv/bin/python tools/make_hf_fixtures.py

Written (float32, about 320 KB in all):
  clf/      config.json, model.safetensors, vocab.txt   BertForSequenceClassification (2 classes), as save_pretrained writes it
  mlm/      config.json, pytorch_model.bin, vocab.txt   BertForMaskedLM with the same body as clf, in the legacy format
                                                        (a pickled state dict, the decoder tied to the word embeddings)
The tests convert each to the other format in a temporary folder, so both heads are checked in both formats.
  inputs.json          the sequences, their token ids and attention mask
  reference.safetensors  eval-mode outputs: logits, mlm_logits, hidden (last hidden state), attn_0, attn_1
                         (attention probabilities per layer, (N, heads, T, T))
It was last run with transformers 5.23.0 and torch 2.13.0 (CPU).

It also writes tests/fixtures/hf_roberta/, the RoBERTa layout CornBERT's checkpoints use (about 410 KB):
  vocab.json, merges.txt     a byte-level BPE tokenizer (256 bytes + 5 special tokens + 40 merges) trained by
                             `tokenizers` on 300 chip_oct4_mafk training peaks, saved as RoBERTa tokenizers are
  mlm/      config.json, pytorch_model.bin, vocab.json, merges.txt   RobertaForMaskedLM (decoder tied)
  clf/      config.json, model.safetensors, vocab.json, merges.txt   RobertaForSequenceClassification (3 classes),
                                                                     the same body
  inputs.json                the sequences and the ids/mask `RobertaTokenizer` (transformers') gives them
  reference.safetensors      eval-mode logits, mlm_logits, hidden, attn_0, attn_1, as for BERT
The rows differ in length, so the padded rows check RoBERTa's position offsets (padding_idx + 1).
A non-default `layer_norm_eps` (1e-5, RoBERTa's) is used so that a loader that ignores it fails.

It also writes tests/fixtures/keras_gxbert/gxbert_tiny.h5 (no transformers, no TensorFlow: h5py and NumPy only), a
tiny GX-BERT in the layout of Keras' legacy HDF5 format (`model.save('m.h5')`): a `model_weights` group whose
`layer_names` attribute lists the layers in the model's order, one group per layer whose `weight_names` attribute lists
its weights, each weight a dataset at `model_weights/<layer>/<weight name>` (weight names hold slashes, so nested
layers become nested groups: `model_weights/conv1d/conv1d/kernel:0`). Layout from the Keras documentation of
`Model.save_weights` (HDF5 format) and `keras/saving/legacy/hdf5_format.py`; the layers, their order, their automatic
names and the weight shapes (Conv1D kernels (k, in, out), Dense kernels (in, out), MultiHeadAttention's EinsumDense
kernels (d, heads, key_dim) and (heads, key_dim, d)) from GX-BERT's `_build_model` (github.com/GX-BERT/GX-BERT,
`Classes/GX_BERT.ipynb`, k_size='multiconv_proj', pooler='tanh', add_reg=True, one TransformerBlock). The weights are
seeded random numbers: the test checks the loader against a NumPy forward pass of the Keras computation.
    python tools/make_hf_fixtures.py keras

Without a separate venv, transformers can also be put in a throwaway folder that shadows nothing of genobook's:
    pip install --target /tmp/hftarget transformers && PYTHONPATH=/tmp/hftarget .venv/bin/python tools/make_hf_fixtures.py
"""
import itertools, json, os, shutil
from pathlib import Path
import torch
from safetensors.torch import save_file

SEED, K = 0, 3
SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
CUTS = [(0, 'sample_test.fa', 24), (1, 'sample_test.fa', 17), (0, 'sample2_test.fa', 24), (1, 'sample2_test.fa', 11)]  # (record, file, nt)

def read_fasta(path):
    recs, name = {}, None
    for line in Path(path).read_text().splitlines():
        if line.startswith('>'): name = line[1:].split()[0]; recs[name] = []
        elif line.strip() and not line.startswith('#'): recs[name].append(line.strip().upper())
    return {n: ''.join(s) for n, s in recs.items()}

def tokenise(seqs, vocab):
    "DNABERT's layout: [CLS] overlapping k-mers [SEP] [PAD]...; k-mers with other letters than ACGT are [UNK]."
    rows = [[vocab['[CLS]']] + [vocab.get(s[i:i + K], vocab['[UNK]']) for i in range(len(s) - K + 1)] + [vocab['[SEP]']]
            for s in seqs]
    T = max(map(len, rows))
    ids = [r + [vocab['[PAD]']] * (T - len(r)) for r in rows]
    return ids, [[1] * len(r) + [0] * (T - len(r)) for r in rows]

def main(out='tests/fixtures/hf_bert'):
    import transformers
    from transformers import BertConfig, BertForSequenceClassification, BertForMaskedLM
    out = Path(out)
    data = Path(os.environ.get('GENOBOOK_DATA', '~/.cache/genobook')).expanduser()/'chip_oct4_mafk'
    tokens = SPECIALS + [''.join(p) for p in itertools.product('ATCG', repeat=K)]  # DNABERT's vocab.txt order
    vocab = {t: i for i, t in enumerate(tokens)}
    seqs = [list(read_fasta(data/fn).values())[i][:n] for i, fn, n in CUTS]
    ids, mask = tokenise(seqs, vocab)
    ids, mask = torch.tensor(ids), torch.tensor(mask)

    torch.manual_seed(SEED)
    cfg = BertConfig(vocab_size=len(tokens), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=64, hidden_act='gelu', num_labels=2,
                     attn_implementation='eager')  # eager attention: the probabilities are returned
    clf = BertForSequenceClassification(cfg)
    # HF's init (std 0.02) gives near-uniform attention; larger random weights make the comparison sharper
    with torch.no_grad():
        for name, p in clf.named_parameters():
            p.normal_(1.0 if 'LayerNorm.weight' in name else 0.0, 0.1 if 'LayerNorm' in name else 0.3)
    mlm = BertForMaskedLM(cfg)
    missing, unexpected = mlm.bert.load_state_dict(clf.bert.state_dict(), strict=False)
    assert not missing and all(k.startswith('pooler.') for k in unexpected), (missing, unexpected)
    with torch.no_grad():
        for name, p in mlm.cls.named_parameters():   # the decoder weight is tied to the word embeddings
            if p is not mlm.bert.embeddings.word_embeddings.weight:
                p.normal_(1.0 if 'LayerNorm.weight' in name else 0.0, 0.1 if 'LayerNorm' in name else 0.3)
    assert mlm.cls.predictions.decoder.weight is mlm.bert.embeddings.word_embeddings.weight
    clf.eval(); mlm.eval()
    with torch.no_grad():
        o = clf(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
        m = mlm(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
    torch.testing.assert_close(o.hidden_states[-1], m.hidden_states[-1])  # same body, same hidden states

    if out.exists(): shutil.rmtree(out)
    clf.save_pretrained(out/'clf')                                   # config.json + model.safetensors
    mlm.save_pretrained(out/'mlm')
    (out/'mlm'/'model.safetensors').unlink()                          # transformers 5 writes only safetensors; the legacy
    torch.save(mlm.state_dict(), out/'mlm'/'pytorch_model.bin')       # save_pretrained(safe_serialization=False) wrote this
    for name in ('clf', 'mlm'): (out/name/'vocab.txt').write_text('\n'.join(tokens) + '\n')
    refs = {'logits': o.logits, 'mlm_logits': m.logits, 'hidden': o.hidden_states[-1],
            **{f'attn_{i}': a for i, a in enumerate(o.attentions)}}
    save_file({k: v.contiguous() for k, v in refs.items()}, out/'reference.safetensors',
              metadata={'transformers': transformers.__version__, 'torch': torch.__version__})
    (out/'inputs.json').write_text(json.dumps({'k': K, 'alphabet': 'ATCG', 'seqs': seqs,
                                               'ids': ids.tolist(), 'mask': mask.tolist()}, indent=0) + '\n')
    for f in out.rglob('*'): f.chmod(0o755 if f.is_dir() else 0o644)
    total = sum(f.stat().st_size for f in out.rglob('*') if f.is_file())
    print(f"wrote {out} ({total/1024:.0f} KB) with transformers {transformers.__version__}, torch {torch.__version__}")

ROBERTA_SPECIALS = ['<s>', '<pad>', '</s>', '<unk>', '<mask>']
ROBERTA_CUTS = [(0, 'sample_test.fa', 40), (1, 'sample_test.fa', 23), (0, 'sample2_test.fa', 31), (2, 'sample2_test.fa', 9)]

def main_roberta(out='tests/fixtures/hf_roberta'):
    "The RoBERTa fixtures: a BPE tokenizer in vocab.json + merges.txt, an MLM and a classification checkpoint, references."
    import transformers
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification, RobertaTokenizer
    out = Path(out)
    data = Path(os.environ.get('GENOBOOK_DATA', '~/.cache/genobook')).expanduser()/'chip_oct4_mafk'
    train = list(read_fasta(data/'sample.fa').values())[:300]
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(train, vocab_size=256 + len(ROBERTA_SPECIALS) + 40, min_frequency=2, special_tokens=ROBERTA_SPECIALS)
    bpe.save_model(str(out))                                           # vocab.json + merges.txt
    rtok = RobertaTokenizer(str(out/'vocab.json'), str(out/'merges.txt'))
    seqs = [list(read_fasta(data/fn).values())[i][:n] for i, fn, n in ROBERTA_CUTS]
    enc = rtok(seqs, padding=True, return_tensors='pt')
    ids, mask = enc['input_ids'], enc['attention_mask']
    assert mask.min() == 0, 'the batch should hold padding'

    torch.manual_seed(SEED + 1)
    cfg = RobertaConfig(vocab_size=len(rtok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                        max_position_embeddings=ids.shape[1] + 2 + 4, hidden_act='gelu', layer_norm_eps=1e-5, type_vocab_size=1,
                        pad_token_id=rtok.pad_token_id, bos_token_id=rtok.bos_token_id, eos_token_id=rtok.eos_token_id,
                        num_labels=3, attn_implementation='eager')
    mlm = RobertaForMaskedLM(cfg)
    with torch.no_grad():
        for name, p in mlm.named_parameters():
            p.normal_(1.0 if 'LayerNorm.weight' in name or 'layer_norm.weight' in name else 0.0,
                      0.1 if 'LayerNorm' in name or 'layer_norm' in name else 0.3)
    assert mlm.lm_head.decoder.weight is mlm.roberta.embeddings.word_embeddings.weight
    clf = RobertaForSequenceClassification(cfg)
    missing, unexpected = clf.roberta.load_state_dict(mlm.roberta.state_dict(), strict=False)
    assert not missing and all(k.startswith('pooler.') for k in unexpected), (missing, unexpected)
    with torch.no_grad():
        for name, p in clf.classifier.named_parameters(): p.normal_(0.0, 0.3)
    clf.eval(); mlm.eval()
    with torch.no_grad():
        o = clf(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
        m = mlm(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
    torch.testing.assert_close(o.hidden_states[-1], m.hidden_states[-1])
    clf.save_pretrained(out/'clf')                                     # config.json + model.safetensors
    mlm.save_pretrained(out/'mlm')
    (out/'mlm'/'model.safetensors').unlink()                            # the legacy pickled format for the MLM checkpoint
    torch.save(mlm.state_dict(), out/'mlm'/'pytorch_model.bin')
    for name in ('clf', 'mlm'):
        for f in ('vocab.json', 'merges.txt'): shutil.copy(out/f, out/name/f)
    refs = {'logits': o.logits, 'mlm_logits': m.logits, 'hidden': o.hidden_states[-1],
            **{f'attn_{i}': a for i, a in enumerate(o.attentions)}}
    save_file({k: v.contiguous() for k, v in refs.items()}, out/'reference.safetensors',
              metadata={'transformers': transformers.__version__, 'torch': torch.__version__})
    (out/'inputs.json').write_text(json.dumps({'seqs': seqs, 'ids': ids.tolist(), 'mask': mask.tolist()}, indent=0) + '\n')
    for f in out.rglob('*'): f.chmod(0o755 if f.is_dir() else 0o644)
    total = sum(f.stat().st_size for f in out.rglob('*') if f.is_file())
    print(f"wrote {out} ({total/1024:.0f} KB) with transformers {transformers.__version__}, torch {torch.__version__}")

def keras_gxbert_layers(d=8, kernels=(6, 9), heads=2, key_dim=8, d_ff=16, mlp=(12, 12), n_out=1, seed=0):
    "GX-BERT's layers as (layer name, [(weight name, array)]), in the model's order, with seeded random weights."
    import numpy as np
    rng = np.random.default_rng(seed)
    w = lambda *shape: rng.normal(0, 0.3, shape).astype('float32')
    pos = lambda *shape: rng.uniform(0.5, 1.5, shape).astype('float32')
    convs = [(f"conv1d{'' if i == 0 else f'_{i}'}", k) for i, k in enumerate(kernels)]
    tb, mha = 'transformer_block', 'transformer_block/multi_head_attention'
    return [('sequence', []),
            ('token_embedding', [('token_embedding/embedding/embeddings:0', w(5, d))]),
            *[(n, [(f'{n}/kernel:0', w(k, d, d)), (f'{n}/bias:0', w(d))]) for n, k in convs],
            ('concatenate', []),
            ('dense_3', [('dense_3/kernel:0', w(d * len(kernels), d)), ('dense_3/bias:0', w(d))]),
            ('add', []), ('average_pooling1d', []),
            ('batch_normalization', [('batch_normalization/gamma:0', pos(d)), ('batch_normalization/beta:0', w(d)),
                                     ('batch_normalization/moving_mean:0', w(d)), ('batch_normalization/moving_variance:0', pos(d))]),
            ('position_encoding2', []),
            ('add_reg', [('add_reg/embedding_1/embeddings:0', w(1, d))]),
            (tb, [*[(f'{mha}/{p}/{v}:0', w(d, heads, key_dim) if v == 'kernel' else w(heads, key_dim))
                    for p in ('query', 'key', 'value') for v in ('kernel', 'bias')],
                  (f'{mha}/attention_output/kernel:0', w(heads, key_dim, d)), (f'{mha}/attention_output/bias:0', w(d)),
                  (f'{tb}/dense_1/kernel:0', w(d, d_ff)), (f'{tb}/dense_1/bias:0', w(d_ff)),
                  (f'{tb}/dense_2/kernel:0', w(d_ff, d)), (f'{tb}/dense_2/bias:0', w(d)),
                  (f'{tb}/layer_normalization/gamma:0', pos(d)), (f'{tb}/layer_normalization/beta:0', w(d)),
                  (f'{tb}/layer_normalization_1/gamma:0', pos(d)), (f'{tb}/layer_normalization_1/beta:0', w(d))]),
            ('tf.__operators__.getitem', []),
            ('dense', [('dense/kernel:0', w(d, d)), ('dense/bias:0', w(d))]),
            ('tf.math.tanh', []),
            ('dense_4', [('dense_4/kernel:0', w(d, mlp[0])), ('dense_4/bias:0', w(mlp[0]))]), ('dropout', []),
            ('dense_5', [('dense_5/kernel:0', w(mlp[0], mlp[1])), ('dense_5/bias:0', w(mlp[1]))]), ('dropout_1', []),
            ('Regression_Output', [('Regression_Output/kernel:0', w(mlp[1], n_out)), ('Regression_Output/bias:0', w(n_out))])]

def write_keras_h5(path, layers, wrap=True):
    "Write `layers` ((name, [(weight name, array)])) as Keras' legacy HDF5 does: under model_weights (model.save) or at the root (save_weights)."
    import h5py, numpy as np
    with h5py.File(path, 'w') as f:
        f.attrs['keras_version'] = b'2.8.0'; f.attrs['backend'] = b'tensorflow'
        g = f.create_group('model_weights') if wrap else f
        g.attrs['layer_names'] = np.array([n.encode() for n, _ in layers])
        g.attrs['backend'] = b'tensorflow'; g.attrs['keras_version'] = b'2.8.0'
        for name, weights in layers:
            lg = g.create_group(name)
            lg.attrs['weight_names'] = np.array([wn.encode() for wn, _ in weights])
            for wn, arr in weights: lg.create_dataset(wn, data=arr)

def main_keras(out='tests/fixtures/keras_gxbert'):
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    write_keras_h5(out/'gxbert_tiny.h5', keras_gxbert_layers())
    (out/'gxbert_tiny.h5').chmod(0o644)
    print(f"wrote {out/'gxbert_tiny.h5'} ({(out/'gxbert_tiny.h5').stat().st_size/1024:.0f} KB)")

if __name__ == '__main__':
    import sys
    which = sys.argv[1:] or ['bert', 'roberta', 'keras']
    if 'bert' in which: main()
    if 'roberta' in which: main_roberta()
    if 'keras' in which: main_keras()
