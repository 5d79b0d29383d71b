"""`genobook.models.bert.load_hf_bert` and `load_hf_roberta` against outputs computed by the real `transformers` library.

The fixtures under tests/fixtures/hf_bert/ and tests/fixtures/hf_roberta/ were written once by
tools/make_hf_fixtures.py (transformers 5.23 and 5.25, in a separate venv: transformers is not a genobook dependency).
Each checkpoint is also converted here to the other weight format, so both heads are checked from both
`model.safetensors` and `pytorch_model.bin`. The RoBERTa fixture's tokenizer is a `vocab.json` + `merges.txt` pair,
and its batch holds rows of different lengths, so RoBERTa's position offsets (padding_idx + 1) are checked too.
"""
import json, shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from genobook.tokenize import KmerTokenizer
from genobook.models.bert import (BertForMLM, KmerBert, RobertaMeanPool, hf_kmer_tokenizer, load_hf_bert, read_hf_weights,
                                  bert_config_from_hf, hf_bpe_tokenizer, load_hf_roberta, roberta_config_from_hf)

FIX = Path(__file__).parent/'fixtures'/'hf_bert'
RFIX = Path(__file__).parent/'fixtures'/'hf_roberta'
TOL = 1e-5


@pytest.fixture(scope='module')
def ref():
    return load_file(FIX/'reference.safetensors')


def _inputs_of(fix: Path):
    "The fixture batch of folder `fix`: ids, mask and the parsed inputs.json."
    d = json.loads((fix/'inputs.json').read_text())
    return torch.tensor(d['ids']), torch.tensor(d['mask']), d


@pytest.fixture(scope='module')
def inputs(): return _inputs_of(FIX)


def _copy(src: Path, dest: Path, fmt: str, files=('config.json', 'vocab.txt'), tied='cls.predictions.decoder.weight') -> Path:
    "Checkpoint folder `src` copied to `dest` with its weights written as `fmt` ('bin' or 'safetensors'); the tied decoder left out of safetensors."
    dest.mkdir()
    for f in files: shutil.copy(src/f, dest/f)
    sd = read_hf_weights(src)
    if fmt == 'bin': torch.save(sd, dest/'pytorch_model.bin')
    else: save_file({k: v.clone() for k, v in sd.items() if k != tied}, dest/'model.safetensors')
    return dest


@pytest.fixture(scope='module')
def folders(tmp_path_factory):
    "The four (head, format) combinations."
    tmp = tmp_path_factory.mktemp('hf')
    return {('clf', 'safetensors'): FIX/'clf', ('clf', 'bin'): _copy(FIX/'clf', tmp/'clf_bin', 'bin'),
            ('mlm', 'bin'): FIX/'mlm', ('mlm', 'safetensors'): _copy(FIX/'mlm', tmp/'mlm_st', 'safetensors')}


def test_fixture_formats():
    "The committed fixtures really are one safetensors and one pickled checkpoint, small."
    assert (FIX/'clf'/'model.safetensors').is_file() and not (FIX/'clf'/'pytorch_model.bin').exists()
    assert (FIX/'mlm'/'pytorch_model.bin').is_file() and not (FIX/'mlm'/'model.safetensors').exists()
    assert sum(f.stat().st_size for f in FIX.rglob('*') if f.is_file()) < 400_000


def test_tokenizer_reproduces_fixture_ids(inputs):
    ids, mask, d = inputs
    tok = hf_kmer_tokenizer(FIX/'clf')
    assert (tok.k, tok.alphabet) == (3, 'ATCG')
    got_ids, got_mask = tok.encode(d['seqs'])
    assert torch.equal(got_ids, ids) and torch.equal(got_mask, mask)
    assert mask.min() == 0, "the fixture batch should contain padding"


def _check_against(model, head: str, ref: dict, ids, mask):
    "The model's outputs (fast and inspect paths), last hidden states and attention equal the `transformers` references."
    assert isinstance(model, KmerBert if head == 'clf' else BertForMLM) and not model.training
    with torch.no_grad():
        out, att = model(ids, mask, return_attention=True)
        fast = model(ids, mask)
        hidden = model.bert(ids, mask).hidden
    expect = ref['logits'] if head == 'clf' else ref['mlm_logits']
    torch.testing.assert_close(out, expect, atol=TOL, rtol=0)
    torch.testing.assert_close(fast, expect, atol=TOL, rtol=0)
    torch.testing.assert_close(hidden, ref['hidden'], atol=TOL, rtol=0)
    assert len(att) == 2
    for i, a in enumerate(att): torch.testing.assert_close(a, ref[f'attn_{i}'], atol=TOL, rtol=0)


@pytest.mark.parametrize('head,fmt', [('clf', 'safetensors'), ('clf', 'bin'), ('mlm', 'bin'), ('mlm', 'safetensors')])
def test_outputs_match_transformers(folders, ref, inputs, head, fmt):
    ids, mask, _ = inputs
    model = load_hf_bert(folders[head, fmt], tokenizer=hf_kmer_tokenizer(FIX/'clf'))
    _check_against(model, head, ref, ids, mask)


def test_mlm_decoder_is_tied(folders):
    m = load_hf_bert(folders['mlm', 'bin'])
    assert m.decoder.weight is m.bert.embeddings.word.weight


def test_pretrained_body_into_new_classifier(ref, inputs):
    ids, mask, _ = inputs
    m = load_hf_bert(FIX/'mlm', head='classifier', init_head=True, n_classes=5)
    with torch.no_grad():
        torch.testing.assert_close(m.bert(ids, mask).hidden, ref['hidden'], atol=TOL, rtol=0)
        assert m(ids, mask).shape == (4, 5)
    with pytest.raises(ValueError, match='init_head=True'): load_hf_bert(FIX/'mlm', head='classifier')


def test_config_translation():
    c = bert_config_from_hf(FIX/'clf')
    assert (c.vocab_size, c.d_model, c.n_layers, c.n_heads, c.d_ff, c.max_len, c.activation) == (69, 32, 2, 4, 64, 64, 'gelu')
    raw = json.loads((FIX/'clf'/'config.json').read_text())
    with pytest.raises(ValueError, match='not BERT'): bert_config_from_hf({**raw, 'model_type': 'gpt2'})


def _broken(tmp_path, drop=(), rename=None):
    d = _copy(FIX/'clf', tmp_path/'broken', 'bin')
    sd = {(rename or {}).get(k, k): v for k, v in read_hf_weights(d).items() if k not in drop}
    torch.save(sd, d/'pytorch_model.bin')
    return d


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="vocab.txt line 7 is 'AAT'"): load_hf_bert(FIX/'clf', tokenizer=KmerTokenizer(3))
    with pytest.raises(ValueError, match=r'bert\.encoder\.layers\.0\.attn\.q\.weight'):
        load_hf_bert(_broken(tmp_path, drop=['bert.encoder.layer.0.attention.self.query.weight']))
    shutil.rmtree(tmp_path/'broken')
    with pytest.raises(ValueError, match=r"bert\.pooler\.dense\.extra"):
        load_hf_bert(_broken(tmp_path, rename={'bert.pooler.dense.bias': 'bert.pooler.dense.extra'}))
    empty = tmp_path/'empty'; empty.mkdir(); shutil.copy(FIX/'clf'/'config.json', empty)
    with pytest.raises(ValueError, match='No model.safetensors or pytorch_model.bin'): load_hf_bert(empty)
    with pytest.raises(ValueError, match='No config.json'): bert_config_from_hf(tmp_path)


# ---------------------------------------------------------------------------------------------------- RoBERTa
@pytest.fixture(scope='module')
def rref(): return load_file(RFIX/'reference.safetensors')


@pytest.fixture(scope='module')
def rinputs(): return _inputs_of(RFIX)


def _rcopy(src: Path, dest: Path, fmt: str) -> Path:
    return _copy(src, dest, fmt, ('config.json', 'vocab.json', 'merges.txt'), 'lm_head.decoder.weight')


@pytest.fixture(scope='module')
def rfolders(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('hfr')
    return {('clf', 'safetensors'): RFIX/'clf', ('clf', 'bin'): _rcopy(RFIX/'clf', tmp/'clf_bin', 'bin'),
            ('mlm', 'bin'): RFIX/'mlm', ('mlm', 'safetensors'): _rcopy(RFIX/'mlm', tmp/'mlm_st', 'safetensors')}


def test_roberta_fixture_layout():
    "Hugging Face's RoBERTa layout: config.json, weights in both formats, the tokenizer as vocab.json + merges.txt; small."
    for name in ('clf', 'mlm'):
        assert all((RFIX/name/f).is_file() for f in ('config.json', 'vocab.json', 'merges.txt'))
        assert json.loads((RFIX/name/'config.json').read_text())['model_type'] == 'roberta'
    assert (RFIX/'clf'/'model.safetensors').is_file() and (RFIX/'mlm'/'pytorch_model.bin').is_file()
    assert sum(f.stat().st_size for f in RFIX.rglob('*') if f.is_file()) < 500_000


def test_bpe_tokenizer_reproduces_roberta_tokenizer(rinputs):
    ids, mask, d = rinputs
    tok = hf_bpe_tokenizer(RFIX)
    got_ids, got_mask = tok.encode(d['seqs'], max_len=None)
    assert torch.equal(got_ids, ids) and torch.equal(got_mask, mask)
    assert mask.sum(1).unique().numel() > 1, "the fixture rows should differ in length (padding tests the position offsets)"
    assert tok.decode(ids) == d['seqs']


@pytest.mark.parametrize('head,fmt', [('clf', 'safetensors'), ('clf', 'bin'), ('mlm', 'bin'), ('mlm', 'safetensors')])
def test_roberta_outputs_match_transformers(rfolders, rref, rinputs, head, fmt):
    ids, mask, _ = rinputs
    model = load_hf_roberta(rfolders[head, fmt])
    assert model.config.positions == 'roberta' and model.config.eps == 1e-5
    _check_against(model, head, rref, ids, mask)


def test_roberta_positions_matter(rref, rinputs):
    "With BERT's positions the same weights miss the reference: the offset is what makes them match."
    ids, mask, _ = rinputs
    good = load_hf_roberta(RFIX/'mlm')
    wrong = load_hf_roberta(RFIX/'mlm', positions='bert', max_len=good.config.max_len)
    with torch.no_grad(): assert (wrong.bert(ids, mask).hidden - rref['hidden']).abs().max() > 1e-2


def test_roberta_body_into_mean_pool_regressor(rref, rinputs):
    ids, mask, _ = rinputs
    m = load_hf_roberta(RFIX/'mlm', head='regression', init_head=True, n_tasks=10)
    assert isinstance(m, RobertaMeanPool)
    with torch.no_grad():
        torch.testing.assert_close(m.bert(ids, mask).hidden, rref['hidden'], atol=TOL, rtol=0)
        assert m(ids, mask).shape == (4, 10)
    with pytest.raises(ValueError, match='init_head=True'): load_hf_roberta(RFIX/'mlm', head='regression')


def test_roberta_errors(tmp_path):
    with pytest.raises(ValueError, match='use load_hf_bert'): load_hf_roberta(FIX/'clf')
    with pytest.raises(ValueError, match='use load_hf_roberta'): bert_config_from_hf(RFIX/'clf')
    raw = json.loads((RFIX/'clf'/'config.json').read_text())
    assert roberta_config_from_hf(raw).max_tokens == raw['max_position_embeddings'] - raw['pad_token_id'] - 1
    d = _rcopy(RFIX/'mlm', tmp_path/'broken', 'bin')
    sd = read_hf_weights(d)
    sd['roberta.encoder.layer.0.extra.weight'] = sd.pop('roberta.encoder.layer.0.output.dense.weight')
    torch.save(sd, d/'pytorch_model.bin')
    with pytest.raises(ValueError, match=r'roberta\.encoder\.layer\.0\.extra\.weight'): load_hf_roberta(d)
    (d/'merges.txt').unlink()
    with pytest.raises(ValueError, match=r'vocab\.json \+ merges\.txt'): hf_bpe_tokenizer(d)
