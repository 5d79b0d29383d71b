"The console script as a user runs it: exit statuses and messages."
import os, subprocess, sys, shutil
from pathlib import Path
import pytest

def _run(*args):
    exe = shutil.which('genobook') or str(Path(sys.executable).parent/'genobook')
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300)

def test_help_lists_commands():
    r = _run('--help')
    assert r.returncode == 0 and 'datasets' in r.stdout

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
