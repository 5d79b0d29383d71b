"Packaging contracts: settings.ini is the single source of metadata, README and CI agree, forbidden imports stay out."
import configparser, importlib.metadata as md, json, re, tomllib
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def _settings():
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT/'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']

def test_pyproject_holds_only_build_system_and_nbdev():
    d = tomllib.loads((ROOT/'pyproject.toml').read_text())
    assert set(d) == {'build-system', 'tool'} and set(d['tool']) == {'nbdev'}
    assert 'slow' in d['tool']['nbdev']['tst_flags'].split()

def test_installed_metadata_comes_from_settings_ini():
    s = _settings()
    assert md.version('genobook') == s['version']
    installed = {re.split(r'[<>=!~; \[]', r)[0].lower() for r in md.requires('genobook') if 'extra ==' not in r}
    declared = {re.split(r'[<>=!~\[]', r)[0].lower() for r in s['requirements'].split()}
    assert installed == declared
    torch_req = next(r for r in s['requirements'].split() if r.startswith('torch'))
    assert '<2.14' in torch_req, 'torch must stay pinned below 2.14 (CPU wheel on CPU machines)'

def test_forbidden_dependencies_and_imports():
    s = _settings()
    reqs = (s['requirements'] + ' ' + s['dev_requirements']).lower()
    assert 'transformers' not in reqs
    for f in (ROOT/'genobook').rglob('*.py'):
        src = f.read_text()
        assert not re.search(r'^\s*(from|import)\s+transformers\b', src, re.M), f
        assert 'fastai.vision' not in src, f

def _readme_commands():
    blocks = re.findall(r'```sh\n(.*?)\n```', (ROOT/'README.md').read_text(), re.S)
    assert len(blocks) >= 2, 'README must show the install/run command and the test command'
    return blocks[0].strip(), blocks[1].strip()

def test_readme_commands_match_ci_and_docs_home():
    install, test = _readme_commands()
    assert install.startswith('python3 -m venv .venv') and 'pip install -e ".[dev]"' in install
    assert install.split('&&')[-1].strip().split()[0] in _settings()['console_scripts']
    assert test == 'bash .ci/run'
    ci = (ROOT/'.ci'/'run').read_text()
    assert 'nbdev-test' in ci and 'pytest tests' in ci and 'nbdev-export' in ci
    index = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    text = ''.join(''.join(c['source']) for c in index['cells'])
    assert install in text and test in text, 'nbs/index.ipynb (the docs home) must show the README commands'

def test_every_module_has_a_notebook():
    text = ' '.join(''.join(c['source']) for p in (ROOT/'nbs').rglob('*.ipynb') for c in json.loads(p.read_text())['cells'])
    for f in (ROOT/'genobook').rglob('*.py'):
        if f.name.startswith('_'): continue
        mod = '.'.join(f.relative_to(ROOT/'genobook').with_suffix('').parts)
        assert f'default_exp {mod}' in text, f'{f} has no notebook: edit notebooks, never genobook/*.py'
