"Every command line of the README, taken from README.md itself, runs as written (on small inputs prepared here), so the README and the CLI cannot drift apart."
import os, io, re, sys, shlex, shutil, contextlib
from pathlib import Path
import pytest

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(Path(__file__).parent/'bad_inputs'))
from tiny_models import tiny_models

def readme_commands(text:str)->list[str]:
    "The `genobook ...` command lines of a README: code spans of the command-line section's table and lines of sh blocks, in order."
    cmds = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        cmds += [l.strip() for l in block.splitlines() if l.strip().startswith('genobook ')]
    section = text.split('## The command line', 1)[1].split('\n## ', 1)[0]
    for row in section.splitlines():
        if row.startswith('| `genobook'):
            first = re.split(r'(?<!\\)\|', row)[1]          # the command column (escaped \| stays in)
            cmds += [c.replace('\\|', '|') for c in re.findall(r'`(genobook [^`]+)`', first)]
    return cmds

def is_synopsis(cmd:str)->bool: return '[' in cmd or ' | ' in cmd

def synopsis_lines(cmd:str)->list[list[str]]:
    "Concrete argument lists for a synopsis such as `genobook quickstart [--out DIR] [--small | --full] [--seed N]`: each alternative once."
    opts = re.findall(r'\[([^\]]+)\]', cmd)
    head = re.sub(r'\s*\[[^\]]+\]', '', cmd).split()[1:]
    fill = lambda a: [{'DIR': 'report', 'N': '1'}.get(w, w) for w in a.split()]
    lines = [head + [w for o in opts for w in fill(o.split('|')[0])]]
    lines += [head + fill(alt) for o in opts if '|' in o for alt in o.split('|')[1:]]
    return lines

README = (ROOT/'README.md').read_text()
COMMANDS_OF_README = readme_commands(README)

def test_readme_has_commands():
    from genobook.cli import COMMANDS
    used = {c.split()[1] for c in COMMANDS_OF_README}
    assert used == set(COMMANDS), set(COMMANDS) ^ used           # every command is shown, and only real ones

def test_readme_flags_exist():
    "Every --flag the command-line section mentions is an option of a command (and each synopsis parses)."
    from genobook.cli import COMMANDS, command_parser
    section = README.split('## The command line', 1)[1].split('\n## ', 1)[0]
    known = {o for c in COMMANDS for a in command_parser(c)._actions for o in a.option_strings}
    flags = set(re.findall(r'(?<![\w-])(--[a-z][\w-]*)', section))
    assert flags and flags <= known, flags - known
    for cmd in filter(is_synopsis, COMMANDS_OF_README):
        for args in synopsis_lines(cmd): command_parser(args[0]).parse_args(args[1:])   # SystemExit on a flag that does not exist

def _main(args, cwd):
    from genobook.cli import main
    out, err, old = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main(args)
    finally: os.chdir(old)
    return rc, out.getvalue(), err.getvalue()

def test_readme_commands_run(tmp_path_factory):
    "Each literal command line of the README, in its order, exits 0 in a folder holding the files it names."
    import anndata
    models = tiny_models(tmp_path_factory.getbasetemp())
    d = tmp_path_factory.mktemp('readme')
    (d/'cnn.toml').write_text((models/'cnn.toml').read_text())      # `genobook train cnn.toml` makes cnn.pt
    for f in ('tgem.pt', 'peaks.fa'): shutil.copy(models/f, d/f)
    shutil.copy(models/'cells.h5ad', d/'cells.h5ad')
    from genobook.datasets import load_dataset                       # variants and scan read a genome and a VCF on it
    jg = load_dataset('janggu_genome')
    shutil.copy(jg['pseudo_genome.fa'], d/'genome.fa'); shutil.copy(jg['pseudo_snps.vcf'], d/'variants.vcf')
    literal = [c for c in COMMANDS_OF_README if not is_synopsis(c)]
    assert len(literal) >= 12, literal
    for cmd in literal:
        rc, out, err = _main(shlex.split(cmd)[1:], d)
        assert rc == 0, (cmd, err[-2000:])
        assert 'Traceback' not in err and 'error:' not in err, (cmd, err[-2000:])
    for f in ('chip.fa', 'chip.csv', 'cnn.pt', 'preds.csv', 'ig.bedGraph', 'x.bedGraph', 'x.bedGraph.urls.txt', 'kernels.meme',
              'kernels.tomtom.tsv', 'effects.tsv', 'scan.MafK.bw', 'scan.Oct4.bw', 'attributions.npz', 'attributions.importance.tsv', 'attention.npz', 'entropy.csv', 'network.graphml'):
        assert (d/f).is_file(), f
    assert list(d.glob('attributions.*.rnk'))
