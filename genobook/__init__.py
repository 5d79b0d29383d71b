"""genobook: train and interpret deep models on genomic sequences and gene expression.

Importing a genobook module gives its public functions and classes their parameter descriptions (the comments beside
each parameter, nbdev's docments) in `__doc__`, so that `help(genobook.attr.attribute)` shows them without the docs
site. They are read from the module's own source with `ast` once, at import.
"""
import sys as _sys, importlib.abc as _abc, importlib.machinery as _mach

def _param_docs(module):
    "Append a 'Parameters' list built from docments comments to the docstrings of the module's public functions and classes."
    import ast
    spec = getattr(module, '__spec__', None)
    try: src = open(spec.origin, encoding='utf-8').read()
    except (OSError, TypeError, AttributeError): return
    lines, names = src.splitlines(), set(getattr(module, '__all__', ()))
    def comment(node, end):   # the '# ...' after `end` (the end of a parameter, with its default) on the parameter's line
        if node.lineno != getattr(end, 'end_lineno', node.lineno): return None
        rest = lines[node.lineno - 1][getattr(end, 'end_col_offset', node.end_col_offset):]
        return rest.split('#', 1)[1].strip() if '#' in rest and rest.split('#', 1)[0].strip() in ('', ',', '):', ')', '->') else None
    for node in ast.parse(src).body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name not in names: continue
        fn = node if isinstance(node, ast.FunctionDef) else next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == '__init__'), None)
        obj = getattr(module, node.name, None)
        if fn is None or obj is None or getattr(obj, '__module__', None) != module.__name__: continue
        a = fn.args
        pos = a.posonlyargs + a.args
        ends = {p.arg: p for p in pos + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]}
        for p, d in zip(pos[len(pos) - len(a.defaults):], a.defaults): ends[p.arg] = d
        for p, d in zip(a.kwonlyargs, a.kw_defaults):
            if d is not None: ends[p.arg] = d
        out = [f"    {p.arg}: {c}" for p in pos + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]
               if p.arg not in ('self', 'cls') and (c := comment(p, ends[p.arg]))]
        if out:
            try: obj.__doc__ = (obj.__doc__ or '').rstrip() + '\n\nParameters\n----------\n' + '\n'.join(out)
            except (AttributeError, TypeError): pass

class _DocsLoader(_abc.Loader):
    "Runs the real loader, then adds the parameter descriptions; everything else (get_source, ...) is the real loader's."
    def __init__(self, loader): self.loader = loader
    def __getattr__(self, k): return getattr(self.loader, k)
    def create_module(self, spec): return self.loader.create_module(spec)
    def exec_module(self, module):
        self.loader.exec_module(module)
        _param_docs(module)

class _DocsFinder(_abc.MetaPathFinder):
    "After a genobook submodule is imported, give its public functions their parameter descriptions (the docments) in __doc__."
    def find_spec(self, name, path, target=None):
        if not name.startswith(__name__ + '.') or name.rsplit('.', 1)[-1].startswith('_'): return None
        spec = _mach.PathFinder.find_spec(name, path, target)
        if spec is not None and isinstance(spec.loader, _mach.SourceFileLoader): spec.loader = _DocsLoader(spec.loader)
        return spec

_sys.meta_path.insert(0, _DocsFinder())

__version__ = "0.1.0"
