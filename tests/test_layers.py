"""The package's import graph runs one way, from the data layer up to the command line, with no cycle.

Read from the source with `ast` (module-level and function-level `from genobook...`/relative imports alike), so a
lazy import inside a function counts too: an import that only runs late is still a dependency.
"""
import ast, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT/'genobook'

# Each module's layer: a module may import only modules of a strictly lower layer (or of its own package below it).
LAYERS = [
    {'core'},                                                        # devices, checks, batching, atomic writes
    {'seq', 'expr', 'protocol', 'metrics'},                          # data types, the model protocol, scores
    {'datasets', 'split', 'tokenize', 'data', 'motifs'},             # data sets, splits, encodings, loaders, motif files
    {'intervals'},                                                   # genome intervals, backgrounds, streamed windows
    {'models.encoder'},
    {'models.tgem', 'models.bert', 'models.cnn', 'models.longseq'},
    {'models.baselines', 'models.io'},
    {'train'},
    {'pipeline', 'attr', 'ism', 'perturb', 'network', 'tracks', 'attention'},  # config → model; interpretation
    {'kernels', 'embed'},                                            # interpretation built on the layer below
    {'variants', 'modisco'},                                         # genome-scale analyses built on both layers above
    {'cli'},
    {'quickstart'},
]
# The interpretation modules talk to models through genobook.protocol only.
INTERPRETATION = {'attr', 'ism', 'perturb', 'kernels', 'attention', 'embed', 'tracks', 'network'}


def _modules()->dict[str, Path]:
    return {'.'.join(p.relative_to(PKG).with_suffix('').parts): p for p in PKG.rglob('*.py')
            if not p.name.startswith('_')}


def _imports(name:str, path:Path, known:set)->set[str]:
    "genobook modules that `name` imports (absolute or relative), anywhere in the file."
    pkg = name.split('.')[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - node.level + 1] if node.level > 1 else pkg
                mod = '.'.join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith('genobook.'): mod = node.module[len('genobook.'):]
            else: continue
            cands = [mod] + [f'{mod}.{a.name}' if mod else a.name for a in node.names]
            out |= {c for c in cands if c in known}
        elif isinstance(node, ast.Import):
            out |= {a.name[len('genobook.'):] for a in node.names if a.name.startswith('genobook.') and a.name[9:] in known}
    return out - {name}


def _graph()->dict[str, set[str]]:
    mods = _modules()
    return {m: _imports(m, p, set(mods)) for m, p in mods.items()}


def _layer(m:str)->int:
    for i, layer in enumerate(LAYERS):
        if m in layer: return i
    raise AssertionError(f"genobook.{m} has no layer in tests/test_layers.py: add it to LAYERS where it belongs.")


def test_every_module_has_a_layer():
    for m in _modules(): _layer(m)


def test_imports_run_down_only():
    bad = [f"genobook.{m} (layer {_layer(m)}) imports genobook.{d} (layer {_layer(d)})"
           for m, deps in _graph().items() for d in sorted(deps) if _layer(d) >= _layer(m)]
    assert not bad, 'imports that do not run down the layers:\n' + '\n'.join(bad)


def test_no_cycle():
    g, state, stack = _graph(), {}, []
    def visit(m):
        state[m] = 'open'; stack.append(m)
        for d in sorted(g[m]):
            if state.get(d) == 'open': raise AssertionError('import cycle: ' + ' -> '.join(stack[stack.index(d):] + [d]))
            if d not in state: visit(d)
        state[m] = 'done'; stack.pop()
    for m in sorted(g):
        if m not in state: visit(m)


def test_interpretation_modules_do_not_import_model_classes():
    bad = {m: sorted(d for d in deps if d.startswith('models.')) for m, deps in _graph().items() if m in INTERPRETATION}
    assert not any(bad.values()), f"interpretation modules must ask models through genobook.protocol: {bad}"


def test_training_and_models_do_not_import_upwards_for_metrics():
    g = _graph()
    assert not any(d.startswith('models') for d in g['train']), g['train']
    assert not [m for m, deps in g.items() if 'train' in deps and m in {'models.baselines', 'motifs', 'kernels'}]


def test_the_checker_sees_a_cycle(tmp_path, monkeypatch):
    "The cycle test can fail: two modules importing each other are caught."
    (tmp_path/'a.py').write_text('from .b import x\n'); (tmp_path/'b.py').write_text('from genobook.a import y\n')
    monkeypatch.setattr(sys.modules[__name__], "PKG", tmp_path)
    with pytest.raises(AssertionError, match='import cycle'): test_no_cycle()
