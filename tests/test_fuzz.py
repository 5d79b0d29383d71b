"Fuzzing the user-facing parsers: arbitrary input either works or raises a ValueError that says what to do, never another exception."
import tempfile
from pathlib import Path
import numpy as np, pandas as pd, torch
from hypothesis import given, settings, HealthCheck, strategies as st
from genobook.seq import read_fasta, write_fasta, one_hot, decode, parse_region, format_region, windows, pad_or_crop
from genobook.tokenize import KmerTokenizer
from genobook.expr import load_expression
from genobook.motifs import read_meme

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
dna = st.text(alphabet='ACGTNacgtnU', max_size=40)
junk = st.text(max_size=40)

def _ok_or_valueerror(f, *args, **kw):
    try: return f(*args, **kw)
    except ValueError as e:
        assert str(e), 'a ValueError must say what was wrong'
        return None

@FUZZ
@given(st.text(alphabet='>ACGTN#\n \tx1-', max_size=120))
def test_read_fasta_never_crashes(text):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)/'x.fa'; p.write_text(text)
        recs = _ok_or_valueerror(read_fasta, p)
        if recs is not None:   # a parsed file writes back and reads again to the same records
            write_fasta(recs, Path(d)/'y.fa')
            assert read_fasta(Path(d)/'y.fa') == recs

@FUZZ
@given(st.lists(st.one_of(dna, junk), min_size=1, max_size=4))
def test_one_hot_never_crashes(seqs):
    for batch in [seqs] + [[s] for s in seqs]:   # the whole list (often ragged) and each sequence alone
        X = _ok_or_valueerror(one_hot, batch)
        if X is not None:
            assert X.shape[:2] == (len(batch), 4) and ((X == 0) | (X == 1)).all()
            assert decode(X) == [s.upper().replace('U', 'T') for s in batch]

@FUZZ
@given(junk)
def test_parse_region_round_trips_or_says_why(name):
    r = _ok_or_valueerror(parse_region, name)
    if r is not None:
        assert r.start < r.end and parse_region(format_region(r)) == r

@FUZZ
@given(st.lists(dna.filter(lambda s: len(s) >= 6), min_size=1, max_size=5), st.integers(3, 6))
def test_kmer_tokenizer_round_trips(seqs, k):
    tok = KmerTokenizer(k)
    ids, mask = tok.encode(seqs)
    assert ids.shape == mask.shape and (mask.sum(1) == torch.tensor([len(s) - k + 3 for s in seqs])).all()
    # decoding gives back every base, with anything a k-mer cannot hold (N, lower case is upper-cased, U as T) as N
    want = [s.upper().replace('U', 'T') for s in seqs]
    got = tok.decode(ids)
    for w, g in zip(want, got):
        assert len(g) == len(w) and all(a == b or b == 'N' for a, b in zip(w, g))

@FUZZ
@given(dna, st.lists(st.integers(-5, 50), max_size=4), st.integers(-2, 6))
def test_windows_and_pad_or_crop(seq, sites, extend):
    w = _ok_or_valueerror(windows, seq, sites, extend=extend)
    if w is not None: assert all(len(x) == 2*extend + 1 for x in w)
    p = _ok_or_valueerror(pad_or_crop, [seq], extend)
    if p is not None: assert len(p[0]) == extend

@FUZZ
@given(st.lists(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.integers(-3, 3)),
                         min_size=3, max_size=3), min_size=1, max_size=6),
       st.lists(st.sampled_from(['a', 'b']), min_size=6, max_size=6))
def test_load_expression_never_crashes(rows, labels):
    df = pd.DataFrame(rows, columns=['g1', 'g2', 'g3']).assign(cell=labels[:len(rows)])
    e = _ok_or_valueerror(load_expression, df, label='cell')
    if e is not None:
        assert torch.isfinite(e.X).all() and e.X.shape == (len(rows), 3) and len(e.labels.classes) >= 2

@FUZZ
@given(st.text(alphabet='MEMEversion4ALPHABET=ACGTletter-probabilitymatrix:alength=w nsites E0.51\n ', max_size=200))
def test_read_meme_never_crashes(text):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)/'m.meme'; p.write_text(text)
        _ok_or_valueerror(read_meme, p)

@FUZZ
@given(st.lists(st.text(alphabet='ACGTNacgtnUXZ-*ÉM ', min_size=6, max_size=30), min_size=1, max_size=4), st.integers(3, 6))
def test_kmer_tokenizer_is_as_strict_as_one_hot(seqs, k):
    "Strict (the default): a batch encodes exactly when one_hot accepts each of its sequences, else the error names the letter; lenient never refuses a letter."
    tok = KmerTokenizer(k)
    one_hot_ok = all(_ok_or_valueerror(one_hot, [s]) is not None for s in seqs)
    try:
        tok.encode(seqs); encoded = True
    except ValueError as e:
        encoded = False
        assert 'Invalid character' in str(e) and 'strict=False' in str(e), str(e)
    assert encoded == one_hot_ok
    ids, mask = tok.encode(seqs, strict=False)
    assert ids.shape == mask.shape and ids.shape[0] == len(seqs)
