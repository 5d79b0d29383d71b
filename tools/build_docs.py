#!/usr/bin/env python
"""Build genobook's documentation as a static HTML site, offline (no Quarto needed).

    python tools/build_docs.py [--out _site] [--nbs nbs] [--execute | --no-execute] [--workers N]

Every notebook under `--nbs` (recursively; names starting with `_` or `.` are skipped) goes through nbdev's own
docs pipeline (`nbdev.processors.FilterDefaults`, what `nbdev-proc-nbs` runs before Quarto): `show_doc` cells are
added after every exported definition and executed, `#| hide` and `#| export` cells are dropped, directives are
honoured and removed, backticked names are linked. Exported constants (which nbdev puts in `__all__` but does not
document) get a block too. Each processed notebook is converted to HTML with nbconvert's `HTMLExporter` and placed in
a page with the navigation sidebar shared by all pages, a table of contents, a symbol search, and links from each
documented name to a highlighted copy of its source. `nbdev-docs` (Quarto) keeps working unchanged: this tool writes
nothing but `--out` (and a temporary folder beside it).

Default (`--no-execute`): the notebooks are NOT run. Only what the API docs need is executed, in a fresh IPython
shell per notebook: the exported cells, the `show_doc` cells, and the import statements of the other cells. Every
exported function, class and constant is documented; example cells show the outputs stored in the notebook (text,
tables as HTML, plots as PNG data): the module notebooks are committed with their outputs, made by
`python tools/run_notebooks.py`, and the tutorials with those of their full run. `--execute` runs every cell that
`nbdev-test` would run (cells
flagged with the `tst_flags` of pyproject.toml, e.g. `slow`, and `#| eval: false` cells are skipped), so the
examples show their outputs; it takes as long as the notebook tests, and a failing cell fails the build.

Pages are named as nbdev names them (`00_core.ipynb` -> `core.html`, `tutorials/01_x.ipynb` -> `tutorials/x.html`),
`nbs/index.ipynb` becomes `index.html` (a landing page is generated when it does not exist). The site has no external
assets (no CDN): it works opened from disk (file://). Math is rendered to inline SVG with matplotlib's mathtext.
The site is built in a temporary folder that then replaces `--out`, so a failed build leaves the old site in place;
a notebook that fails to process makes the command exit with status 1 and a message naming the notebook and cell.
"""
from __future__ import annotations
import argparse, ast, base64, concurrent.futures as cf, html, io, json, multiprocessing as mp, os, re, shutil, sys
import tempfile, time, traceback
from functools import lru_cache
from pathlib import Path, PurePosixPath

TEMPLATE_DIR = Path(__file__).resolve().parent/'docs_template'
MARKER = '.genobook-docs'  # written into every built site: only a folder holding it (or an empty one) is replaced

# Sidebar sections, from the notebook number (see DESIGN.md's layout); a sub-folder of nbs/ is its own section.
SECTIONS = [(0, 9, 'Core & data'), (10, 19, 'Models'), (20, 29, 'Training'), (30, 39, 'Attribution'),
            (40, 49, 'Analysis'), (50, 10**9, 'Command line')]
SECTION_ORDER = [s for *_, s in SECTIONS] + ['Tutorials', 'Other']


class DocsError(Exception):
    "A notebook could not be turned into a page."


# ----------------------------------------------------------------------------------------------- names and paths
def find_notebooks(nbs:Path)->list[Path]:
    "Notebooks under `nbs`, recursively, skipping any file or folder whose name starts with `_` or `.`."
    return sorted(p for p in nbs.rglob('*.ipynb')
                  if not any(part.startswith(('_', '.')) for part in p.relative_to(nbs).parts))

def page_of(rel:PurePosixPath)->str:
    "Site path of the page for notebook `rel` (relative to nbs), named as nbdev names it."
    from nbdev.config import nbpath2html
    return nbpath2html(PurePosixPath(rel)).as_posix()

def section_of(rel:PurePosixPath)->str|None:
    "Sidebar section of notebook `rel`: None for the home page."
    rel = PurePosixPath(rel)
    if len(rel.parts) > 1:
        d = re.sub(r'^\d+_', '', rel.parts[0])
        return 'Tutorials' if d.lower() == 'tutorials' else d.replace('_', ' ').capitalize()
    if rel.stem == 'index': return None
    m = re.match(r'(\d+)', rel.name)
    if not m: return 'Other'
    n = int(m.group(1))
    return next(s for lo, hi, s in SECTIONS if lo <= n <= hi)

def anchor_id(text:str)->str:
    "Pandoc's (hence Quarto's and nbdev's) identifier for a heading: lower case, punctuation but `_-.` removed."
    s = re.sub(r'<[^>]+>', '', html.unescape(text)).strip().lower()
    s = re.sub(r'[^\w\s.-]', '', s)
    s = re.sub(r'\s+', '-', s)
    s = re.sub(r'^[^a-z_]+', '', s)  # up to the first letter
    return s or 'section'

def relpath(target:str, page:str)->str:
    "Relative URL from site page `page` to site path `target` (both posix, relative to the site root)."
    if target.startswith(page + '#'): return target[len(page):]  # same page: just the fragment
    depth = len(PurePosixPath(page).parts) - 1
    return '../'*depth + target


# ---------------------------------------------------------------------------------- symbols (static, no execution)
def _directives(src:str)->dict:
    "The `#| name value` directives at the top of a cell's source."
    d = {}
    for line in src.splitlines():
        s = line.strip()
        if not s: continue
        m = re.match(r'#\|\s*([\w-]+)\s*:?\s*(.*)$', s)
        if not m:
            if s.startswith('#') or s.startswith('%'): continue
            break
        d[m.group(1)] = m.group(2).strip()
    return d

_EXPORT_DIRS = {'export', 'exports'}

def _parse(src:str):
    "AST of a cell's source with IPython magics blanked; None if it does not parse."
    src = '\n'.join('' if l.lstrip().startswith(('%', '!')) else l for l in src.splitlines())
    try: return ast.parse(src)
    except SyntaxError: return None

def _assigned_names(tree)->list[str]:
    "Names nbdev puts in `__all__` from the assignments (and `_all_`) at the top of `tree`, in order."
    res = []
    for o in tree.body:
        if isinstance(o, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = o.targets if isinstance(o, ast.Assign) else [o.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id == '_all_' and isinstance(o.value, (ast.List, ast.Tuple)):
                    res += [getattr(e, 'value', getattr(e, 'id', None)) for e in o.value.elts]
                    continue
                for e in getattr(t, 'elts', [t]):
                    if isinstance(e, ast.Name) and not e.id.startswith('_'): res.append(e.id)
    return [n for n in dict.fromkeys(res) if isinstance(n, str)]

def _def_names(tree)->list[str]:
    "Names `show_doc` is added for: public functions and classes, and `Class.method` for `@patch`ed ones."
    from nbdev.showdoc import showdoc_nm
    res = []
    for o in tree.body:
        if isinstance(o, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and (o.name[0] != '_' or o.name[:2] == '__'):
            nm = showdoc_nm(o)
            res += nm if isinstance(nm, list) else [nm]
    return res

def scan_symbols(nb_paths:list[Path], nbs:Path)->tuple[dict[str, str], dict[str, str]]:
    "Map each documented name (`one_hot`, `seq.one_hot`, `genobook.seq.one_hot`) to `page#anchor`, and each notebook to its module."
    from nbdev.config import get_config
    try: lib = get_config(nbs).lib_name
    except Exception: lib = None
    syms, mods = {}, {}
    for p in nb_paths:
        try: cells = json.loads(p.read_text(encoding='utf-8'))['cells']
        except Exception: continue
        page, mod = page_of(p.relative_to(nbs)), None
        for c in cells:
            if c.get('cell_type') != 'code': continue
            src = ''.join(c.get('source', ''))
            d = _directives(src)
            if 'default_exp' in d:
                mod = d['default_exp'].split()[0] if d['default_exp'] else None
                if mod: mods[p.relative_to(nbs).as_posix()] = mod
            if not (_EXPORT_DIRS & d.keys()) or 'hide' in d: continue
            tree = _parse(src)
            if tree is None: continue
            for nm in _def_names(tree) + _assigned_names(tree):
                target = f'{page}#{anchor_id(nm)}'
                keys = [nm] + ([f'{mod}.{nm}'] + ([f'{lib}.{mod}.{nm}'] if lib else []) if mod else [])
                for k in keys: syms.setdefault(k, target)
    return syms, mods


# ------------------------------------------------------------------------------ processing (in worker processes)
_DOC_HELPER = r'''
def _docs_value(obj, name, src=''):
    "show_doc for an exported assignment: classes and functions as usual, other values by their definition."
    import inspect
    from nbdev.showdoc import show_doc as _sd
    if inspect.isclass(obj) or inspect.isroutine(obj): return _sd(obj, name=name)
    class _R:
        def _repr_markdown_(self):
            s = src.strip() or f'{name} = {obj!r}'
            lines = s.splitlines()
            if len(lines) > 12: s = '\n'.join(lines[:12] + ['...'])
            size = f' of {len(obj)} items' if isinstance(obj, (dict, list, tuple, set, frozenset)) else ''
            return f"---\n\n### {name}\n\n```python\n{s}\n```\n\n*A `{type(obj).__name__}`{size}.*"
        def __repr__(self): return f'{name} = {obj!r}'
    return _R()
'''

def _doc_src_segment(src:str, node)->str:
    "Whole source lines of assignment `node` (trailing comments included)."
    lines = src.splitlines()
    return '\n'.join(lines[node.lineno-1:node.end_lineno])

def _make_procs(execute:bool, timeout, skip_flags, warn):
    "nbdev's docs processors, with the executor replaced by one that runs only what the API docs need."
    from fastcore.nbio import mk_cell
    from nbdev.process import Processor
    from nbdev.processors import FilterDefaults, exec_show_docs, add_show_docs, cell_lang

    class add_value_docs(Processor):
        "Document exported assignments too (nbdev puts them in `__all__` but only adds `show_doc` for defs)"
        def begin(self):
            cells, shown = self.nb.cells, set()
            for c in cells:
                if getattr(c, 'has_sd', False) or (c.cell_type == 'code' and c.source and c.source.lstrip().startswith('show_doc(')):
                    m = re.search(r'show_doc\(\s*([\w.]+)', c.source or '')
                    if m: shown.add(m.group(1))
            for cell in reversed([c for c in cells if c.cell_type == 'code' and c.source
                                  and _EXPORT_DIRS & c.directives_.keys() and 'hide' not in c.directives_]):
                tree = _parse(cell.source)
                if tree is None: continue
                nodes = {}
                for o in tree.body:
                    if isinstance(o, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                        for nm in _assigned_names(ast.Module(body=[o], type_ignores=[])): nodes.setdefault(nm, o)
                new = []
                for nm in _assigned_names(tree):
                    if nm in shown or not nm.isidentifier(): continue
                    shown.add(nm)
                    seg = _doc_src_segment(cell.source, nodes[nm]) if nm in nodes else ''
                    c = mk_cell(f'#| output: asis\n#| echo: false\n_docs_value({nm}, {nm!r}, {seg!r})')
                    c.has_sd = True
                    new.append(c)
                i = cell.idx_ + 1
                while i < len(cells) and getattr(cells[i], 'has_sd', False): i += 1
                cells[i:i] = new

    class exec_docs(exec_show_docs):
        "Run exported, `show_doc` and import statements (default), or every cell nbdev-test runs (`execute`)"
        def begin(self):
            super().begin()
            if not hasattr(self, 'k'): return
            self.k.run(_DOC_HELPER)
            self.skip = None
            if execute:
                from nbdev.test import _skip_cell
                self.skip = _skip_cell(self.nb, skip_flags)

        def _fail(self, cell):
            e = self.k.exc
            n = getattr(cell, 'src_idx_', None)
            where = f"cell {n} (counting code and markdown cells from 0)" if n is not None else "a generated show_doc cell"
            src = getattr(cell, 'src_', None) or cell.source
            tb = ''.join(traceback.format_exception(e)[-6:]) if isinstance(e, BaseException) else f'{e}\n'
            raise DocsError(f"{where} failed:\n{src.rstrip()}\n--\n{tb.rstrip()}") from None

        def __call__(self, cell):
            if not hasattr(self, 'k') or cell.cell_type != 'code' or not cell.source or cell_lang(cell) != 'python': return
            if 'nbdev_export' + '(' in cell.source: return
            fm = getattr(self.nb, 'frontmatter_', {}) or {}
            if execute and not str(fm.get('skip_exec', '')).lower() == 'true':
                if self.skip(cell): return
                self.k.cell(cell, timeout=timeout)
                if self.k.exc: self._fail(cell)
                return
            if not self.nb.has_docs_ or str(fm.get('skip_showdoc', '')).lower() == 'true': return
            d = cell.directives_
            if str(d.get('eval', '')).lower() == 'false': return
            tree = _parse(cell.source)
            if tree is None: return
            is_doc = getattr(cell, 'has_sd', False) or any(
                isinstance(t, ast.Expr) and isinstance(t.value, ast.Call) and getattr(t.value.func, 'id', '') == 'show_doc'
                for t in tree.body)
            if d.keys() & {'export', 'exports', 'exporti', 'exec_doc'} or is_doc:
                self.k.cell(cell, timeout=timeout)
                if self.k.exc: self._fail(cell)
                return
            # Any other cell: only its top-level imports, so names used by later `show_doc` cells exist, without
            # running examples (which may load data sets or train models). A failing import is reported, not fatal.
            imps = [o for o in tree.body if isinstance(o, (ast.Import, ast.ImportFrom))]
            if not imps: return
            code = '\n'.join(ast.get_source_segment(cell.source, o) or ast.unparse(o) for o in imps)
            self.k.run(code, timeout=timeout)
            if self.k.exc:
                warn(f"cell {getattr(cell, 'src_idx_', '?')}: import skipped ({type(self.k.exc).__name__}: {self.k.exc})")
                self.k.exc = None

        def end(self):
            super().end()
            if hasattr(self, 'k'): self.k.close()

    class DocsFilter(FilterDefaults):
        def base_procs(self):
            res = []
            for p in super().base_procs():
                res.append(exec_docs if p is exec_show_docs else p)
                if p is add_show_docs: res.append(add_value_docs)
            return res
    return DocsFilter()


def process_notebook(path:Path, execute:bool=False, warn=print):
    "Read notebook `path` and run nbdev's docs processors on it; returns the processed (fastcore) notebook."
    from fastcore.nbio import read_nb
    from nbdev.config import get_config
    cfg = get_config(path.parent)
    flags = cfg.get('tst_flags', '') or ''
    flags = flags.split() if isinstance(flags, str) else list(flags)
    timeout = int(cfg.get('cell_timeout', 0) or 0) or None
    nb = read_nb(path)
    nb.path_ = str(path)
    for i, c in enumerate(nb.cells): c.src_idx_, c.src_ = i, c.get('source', '')  # for error messages
    _make_procs(execute, timeout, flags, warn)(nb)
    return nb


# ------------------------------------------------------------------------------------------ notebook -> HTML body
@lru_cache(maxsize=None)
def _def_lines(py:str)->dict:
    "`name`/`Class.method` -> line number of its definition in the python file `py`."
    from nbdev.showdoc import showdoc_nm
    try: tree = ast.parse(Path(py).read_text(encoding='utf-8'))
    except Exception: return {}
    d = {}
    for o in tree.body:
        if isinstance(o, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            nm = showdoc_nm(o)
            for n in (nm if isinstance(nm, list) else [nm]): d.setdefault(n, o.lineno)
            if isinstance(o, ast.ClassDef):
                for t in o.body:
                    if isinstance(t, (ast.FunctionDef, ast.AsyncFunctionDef)): d.setdefault(f'{o.name}.{t.name}', t.lineno)
        elif isinstance(o, (ast.Assign, ast.AnnAssign)):
            for t in (o.targets if isinstance(o, ast.Assign) else [o.target]):
                for e in getattr(t, 'elts', [t]):
                    if isinstance(e, ast.Name): d.setdefault(e.id, o.lineno)
    return d

_re_src_link = re.compile(r'\[source\]\(([^)\s]*?)\)(\{[^}]*\})?')
_re_gh_src = re.compile(r'/blob/[^/]+/(.+?\.py)(?:#L\w*)?$')

def _fix_showdoc_md(md:str, root:Path, py:str|None)->str:
    "Give a show_doc block a plain HTML link to its definition in the local source pages (`py`: the module's file)."
    name = (re.search(r'^#{1,6}\s+(.+?)\s*$', md, re.M) or [None, ''])[1]
    m = _re_src_link.search(md)
    g = _re_gh_src.search(m.group(1)) if m else None
    if g: py = g.group(1)  # nbdev found the symbol in the package: trust its file
    link = ''
    if py and (root/py).exists():
        line = _def_lines(str(root/py)).get(name)
        if line: link = f'[source](site:/src/{py}.html#L-{line})'
    if m: return md[:m.start()] + link + md[m.end():]
    if link: return re.sub(r'^(#{1,6}\s)', lambda h: f'{link}\n\n{h.group(1)}', md, count=1, flags=re.M)
    return md

_TEX_SUBS = [(r'\\(le|ge)(?![a-zA-Z])', r'\\\1q'), (r'\\[lr]Vert(?![a-zA-Z])', r'\\Vert'), (r'\\[lr]vert(?![a-zA-Z])', r'\\vert'),
             (r'\\[td]frac(?![a-zA-Z])', r'\\frac'), (r'\\(?:big|Big|bigg|Bigg)[lrm]?(?![a-zA-Z])', ''),
             (r'\\(?:display|text|script)style(?![a-zA-Z])', ''), (r'\\operatorname\*', r'\\operatorname')]

def _tex_for_mathtext(tex:str)->str:
    "Rewrite the common TeX that matplotlib's mathtext lacks (`\\le`, `\\big(`, `\\tfrac`, ...) into what it has."
    for pat, rep in _TEX_SUBS: tex = re.sub(pat, rep, tex)
    return ' '.join(tex.split())

@lru_cache(maxsize=512)
def tex_to_svg(tex:str, display:bool=False)->str|None:
    "`tex` as an inline SVG `<img>` drawn by matplotlib's mathtext (a TeX subset), or None if it can't be drawn."
    try:
        import matplotlib
        from matplotlib.mathtext import MathTextParser
        from matplotlib.figure import Figure
        from matplotlib.font_manager import FontProperties
        from matplotlib.backends.backend_svg import FigureCanvasSVG
    except Exception: return None
    s = f'${_tex_for_mathtext(tex)}$'
    size = 13 if display else 12
    prop = FontProperties(size=size)
    try:
        w, h, depth, *_ = MathTextParser('path').parse(s, dpi=72, prop=prop)
        fig = Figure(figsize=(w/72, h/72))
        fig.patch.set_alpha(0)
        fig.text(0, depth/h, s, fontproperties=prop)
        buf = io.StringIO()
        with matplotlib.rc_context({'svg.fonttype': 'path', 'svg.hashsalt': 'genobook'}):
            FigureCanvasSVG(fig).print_svg(buf, metadata={'Date': None})
    except Exception: return None
    svg = re.sub(r'<metadata>.*?</metadata>\s*', '', buf.getvalue(), flags=re.S)
    data = base64.b64encode(svg.encode()).decode()
    cls = 'math display' if display else 'math'
    style = '' if display else f' style="vertical-align:-{depth:.1f}pt"'
    return f'<img class="{cls}" alt="{html.escape(tex.strip())}" src="data:image/svg+xml;base64,{data}"{style}>'

def _math_html(tex:str, display:bool)->str:
    res = tex_to_svg(tex, display)
    if res: return f'<div class="math-block">{res}</div>' if display else res
    tag = 'pre' if display else 'code'
    return f'<{tag} class="math-tex">{html.escape(tex.strip())}</{tag}>'

def _make_exporter(symbols:dict, page:str, nb_dir:Path, toc:list):
    "An nbconvert HTMLExporter whose markdown gets Pandoc-style heading ids, SVG math and links to documented symbols."
    from jinja2 import pass_context
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
    used_ids = set()
    reserved = {t.split('#', 1)[1] for t in symbols.values() if t.startswith(f'{page}#')}  # ids of show_doc headings

    class Renderer(IPythonRenderer):
        is_doc = False
        def heading(self, text, level, **attrs):
            base = anchor_id(text)
            hid, i = base, 1
            while hid in used_ids or (hid in reserved and not self.is_doc): hid, i = f'{base}-{i}', i + 1
            used_ids.add(hid)
            toc.append((level, hid, html.unescape(re.sub(r'<[^>]+>', '', text)).strip(), self.is_doc))
            return (f'<h{level} id="{hid}">{text}<a class="anchor-link" href="#{hid}" aria-label="link to this section">'
                    f'&#182;</a></h{level}>\n')
        def link(self, text, url, title=None):
            if url.startswith('site:/src/'): return f'<a class="source-link" href="{html.escape(url)}">{text}</a>'
            return super().link(text, url, title)
        def inline_math(self, body): return _math_html(body, False)
        def block_math(self, body): return _math_html(body, True)
        def block_code(self, code, info=None):
            if info and info.strip() in ('math', 'latex') : return _math_html(code, True)
            return super().block_code(code, info)
        def codespan(self, text):
            res = super().codespan(text)
            key = html.unescape(text).strip()
            key = key[:-2] if key.endswith('()') else key
            target = symbols.get(key)
            return f'<a class="sym" href="site:/{target}">{res}</a>' if target else res

    class DocsExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            cell = context.get('cell', {})
            r = Renderer(escape=False, attachments=cell.get('attachments', {}), embed_images=True, path=str(nb_dir),
                         anchor_link_text='¶', **self.lexer_options)
            r.is_doc = 'showdoc' in cell.get('metadata', {}).get('tags', [])
            return MarkdownWithMath(renderer=r).render(source)

    exporter = DocsExporter(template_name='lab', extra_template_paths=[str(TEMPLATE_DIR)],
                            template_file='cells.html.j2', exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True)
    exporter.render_inline = lambda md: re.sub(r'^<p>(.*)</p>\s*$', r'\1', MarkdownWithMath(
        renderer=Renderer(escape=True, path=str(nb_dir))).render(md).strip(), flags=re.S)
    return exporter

_re_dirline = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')

def _split_directives(src:str):
    "(directives, source without them) for the `#| ...` lines at the top of a code cell."
    lines, d, i = src.splitlines(), {}, 0
    while i < len(lines):
        m = _re_dirline.match(lines[i])
        if m: d[m.group(1)] = m.group(2).strip().strip('"\'')
        elif lines[i].strip(): break
        i += 1
    return d, '\n'.join(lines[i:])

def notebook_to_page(nb, rel:PurePosixPath, symbols:dict, root:Path, py:str|None=None)->dict:
    "Convert processed notebook `nb` to an HTML body, its title, summary and table of contents."
    import nbformat, yaml
    from fastcore.nbio import nb2dict
    page = page_of(rel)
    keep = {'markdown': ('cell_type', 'id', 'metadata', 'source', 'attachments'),
            'code': ('cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count'),
            'raw': ('cell_type', 'id', 'metadata', 'source', 'attachments')}
    d = nb2dict(nb)
    d['cells'] = [{k: v for k, v in c.items() if k in keep.get(c.get('cell_type'), c)} for c in d['cells']]
    for c in d['cells']: c.get('metadata', {}).pop('execution', None)  # execnb stores a float there; nbformat wants str
    nbn = nbformat.reads(json.dumps(d), as_version=4)  # joins the line lists of sources and outputs
    fm, cells = {}, []
    for c in nbn.cells:
        src = c.source if isinstance(c.source, str) else ''.join(c.source)
        if c.cell_type == 'raw' and src.lstrip().startswith('---'):
            try: fm.update(yaml.safe_load(src.strip().strip('-')) or {})
            except Exception: pass
            continue
        if c.cell_type == 'markdown' and src.strip().startswith('<!-- WARNING: THIS FILE WAS AUTOGENERATED'): continue
        if c.cell_type == 'code':
            dirs, src = _split_directives(src)
            c.source = src
            if str(dirs.get('include', '')).lower() == 'false': continue
            if str(dirs.get('output', '')).lower() == 'false': c.outputs = []
            if str(dirs.get('echo', '')).lower() == 'false': c.source = ''
            if dirs.get('code-fold'): c.metadata['docs_fold'] = dirs.get('code-summary') or 'Code'
            if src.lstrip().startswith(('show_doc(', '_docs_value(')):
                c.source = ''
                c.metadata['tags'] = list(c.metadata.get('tags', [])) + ['showdoc']
                for o in c.get('outputs', []):
                    md = o.get('data', {}).get('text/markdown')
                    if md is not None: o['data']['text/markdown'] = _fix_showdoc_md(''.join(md), root, py)
            if not c.source.strip() and not c.get('outputs'): continue
            if not c.source.strip(): c.metadata.setdefault('transient', {})['remove_source'] = True
        cells.append(c)
    nbn.cells = cells
    toc = []
    exporter = _make_exporter(symbols, page, Path(nb.path_).parent, toc)
    body, _ = exporter.from_notebook_node(nbn, resources={'metadata': {'path': str(Path(nb.path_).parent)}})
    title, desc = str(fm.get('title') or Path(rel).stem), str(fm.get('description') or '')
    desc_html = exporter.render_inline(desc) if desc else ''
    return dict(title=title, description=re.sub(r'`([^`]*)`', r'\1', desc), description_html=desc_html, body=body,
                toc=toc, page=page)


def render_job(job:dict)->dict:
    "Worker: process and convert one notebook. Returns the page, or `error` with a message."
    t0, warns = time.time(), []
    path, rel = Path(job['path']), PurePosixPath(job['rel'])
    os.environ['IN_TEST'] = '1'
    os.environ.setdefault('MPLBACKEND', 'Agg')
    cwd, main_mod = os.getcwd(), sys.modules.get('__main__')
    try:
        os.chdir(path.parent)  # as nbdev-test and Jupyter run a notebook
        try: nb = process_notebook(path, job['execute'], warns.append)
        except DocsError as e: raise DocsError(f"{job['rel']}: {e}") from None
        except Exception as e:
            raise DocsError(f"{job['rel']}: processing failed: {type(e).__name__}: {e}\n"
                            + ''.join(traceback.format_exception(e)[-4:])) from None
        res = notebook_to_page(nb, rel, job['symbols'], Path(job['root']), job.get('py'))
    except DocsError as e:
        return dict(rel=job['rel'], error=str(e))
    except Exception as e:
        return dict(rel=job['rel'], error=f"{job['rel']}: HTML conversion failed:\n{traceback.format_exc()}")
    finally:
        os.chdir(cwd)
        sys.modules['__main__'] = main_mod  # IPython's shell replaced it; the pool unpickles jobs through it
    return dict(res, rel=job['rel'], warnings=warns, seconds=time.time() - t0)


# ------------------------------------------------------------------------------------------------ site assembly
def _jinja():
    import jinja2
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=jinja2.select_autoescape(['html', 'j2']))

_re_href = re.compile(r'''(\s(?:href|src)=)(["'])(.*?)\2''')

def fix_links(body:str, page:str, pages:set)->str:
    "Resolve `site:/x` links and root-relative links to known pages into links relative to `page`."
    def _sub(m):
        url = html.unescape(m.group(3))
        if url.startswith('site:/'): url = relpath(url[len('site:/'):], page)
        elif url.startswith('/') and not url.startswith('//'):
            path = url[1:].split('#', 1)[0]
            if path in pages: url = relpath(url[1:], page)
        return f'{m.group(1)}{m.group(2)}{html.escape(url, quote=True)}{m.group(2)}'
    return _re_href.sub(_sub, body)

def build_nav(entries:list[dict])->list[dict]:
    "Sidebar sections, in the order of SECTION_ORDER then sub-folders, each with its pages in notebook order."
    groups = {}
    for e in entries:
        if e['section'] is None: continue
        groups.setdefault(e['section'], []).append(e)
    order = {s: i for i, s in enumerate(SECTION_ORDER)}
    names = sorted(groups, key=lambda s: (order.get(s, len(order) - 1.5), s))
    return [dict(name=s, pages=sorted(groups[s], key=lambda e: e['rel'])) for s in names]

def source_pages(root:Path, lib:str)->dict[str, str]:
    "Syntax-highlighted pages of the package's python files, with line anchors `L-<n>`: site path -> HTML body."
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer
    res = {}
    lib_dir = root/lib
    if not lib_dir.is_dir(): return res
    for py in sorted(lib_dir.rglob('*.py')):
        rel = py.relative_to(root).as_posix()
        if py.name == '_modidx.py' or '__pycache__' in rel: continue
        fmt = HtmlFormatter(linenos='inline', lineanchors='L', anchorlinenos=True, cssclass='highlight source')
        res[f'src/{rel}.html'] = (rel, highlight(py.read_text(encoding='utf-8'), PythonLexer(), fmt))
    return res

def write_site(tmp:Path, results:list[dict], entries:list[dict], root:Path, cfg_info:dict, has_index:bool):
    "Write every page, the shared style sheet, the search index and the source pages into folder `tmp`."
    from pygments.formatters import HtmlFormatter
    env = _jinja()
    tpl = env.get_template('page.html.j2')
    srcs = source_pages(root, cfg_info['lib'])
    pages = {e['page'] for e in entries} | {'index.html'} | set(srcs)
    nav = build_nav(entries)
    by_rel = {r['rel']: r for r in results}

    # search index: pages, their sections, and every documented symbol
    index = []
    for e in entries:
        r = by_rel[e['rel']]
        index.append(dict(n=e['title'], u=e['page'], k='page', d=e['description']))
        for level, hid, text, is_doc in r['toc']:
            if is_doc or level <= 3:
                index.append(dict(n=text, u=f"{e['page']}#{hid}", k='symbol' if is_doc else 'section', d=e['title']))

    def _write(page, title, description, body, toc, source=None, description_html=None):
        if description_html is None: description_html = html.escape(description)
        html_ = tpl.render(site=cfg_info, title=title, description=description,
                           description_html=fix_links(' ' + description_html, page, pages)[1:],
                           body=fix_links(body, page, pages),
                           toc=toc, nav=nav, page=page, root='../'*(len(PurePosixPath(page).parts) - 1), source=source)
        out = tmp/page
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html_, encoding='utf-8')

    for e in entries:
        r = by_rel[e['rel']]
        toc = [dict(level=lvl, id=hid, text=text, doc=is_doc) for lvl, hid, text, is_doc in r['toc'] if lvl in (2, 3) or is_doc]
        body = r['body']
        if e['page'] == 'index.html': body += _contents_html(nav)
        _write(e['page'], e['title'], e['description'], body, toc, source=e['rel'], description_html=e['description_html'])
    if not has_index:
        body = f'<div class="landing">{_contents_html(nav)}</div>'
        _write('index.html', cfg_info['title'], cfg_info['description'], body, [])
    for page, (rel, body) in srcs.items():
        _write(page, rel, '', f'<div class="source-page">{body}</div>', [])
    css = (TEMPLATE_DIR/'style.css').read_text(encoding='utf-8')
    css += '\n/* pygments */\n' + HtmlFormatter(style='default').get_style_defs('.highlight')
    (tmp/'style.css').write_text(css, encoding='utf-8')
    js = 'window.DOCS_INDEX = ' + json.dumps(index, ensure_ascii=True) + ';\n' + (TEMPLATE_DIR/'search.js').read_text(encoding='utf-8')
    (tmp/'search.js').write_text(js, encoding='utf-8')
    (tmp/'.nojekyll').write_text('')
    (tmp/MARKER).write_text('genobook docs site built by tools/build_docs.py; this folder is replaced on each build\n')

def _contents_html(nav)->str:
    "The table of contents of the whole site, as an HTML fragment for the home page."
    parts = ['<section class="site-contents"><h2 id="contents">Contents</h2>']
    for sec in nav:
        parts.append(f'<h3>{html.escape(sec["name"])}</h3><dl>')
        for p in sec['pages']:
            parts.append(f'<dt><a href="site:/{html.escape(p["page"])}">{html.escape(p["title"])}</a></dt>'
                         f'<dd>{p["description_html"]}</dd>')
        parts.append('</dl>')
    parts.append('</section>')
    return '\n'.join(parts)

def replace_dir(tmp:Path, out:Path):
    "Replace folder `out` by `tmp` (two renames; `out` must be empty, absent, or a site this tool built)."
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out/MARKER).exists()):
            raise DocsError(f"{out} exists and is not a site built by this tool (no {MARKER} in it): "
                            "choose another --out or remove it first.")
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f'.{out.name}.old-'))
        os.replace(out, old/out.name)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else: os.replace(tmp, out)


def _site_info(root:Path)->dict:
    "Project title, description and package name, from pyproject's [tool.nbdev] and settings.ini."
    import configparser
    from nbdev.config import get_config
    info = dict(title='', description='', lib='', version='')
    try:
        cfg = get_config(root)
        info.update(title=cfg.get('title') or '', lib=cfg.get('lib_path') or cfg.get('lib_name') or '',
                    description=cfg.get('description') or '')
    except Exception: pass
    ini = configparser.ConfigParser()
    ini.read(root/'settings.ini')
    if ini.has_section('DEFAULT') or ini.defaults():
        dflt = ini.defaults()
        info['title'] = info['title'] or dflt.get('lib_name', '')
        info['description'] = info['description'] or dflt.get('description', '')
        info['lib'] = str(info['lib'] or dflt.get('lib_path', ''))
        info['version'] = dflt.get('version', '')
    info['lib'] = Path(str(info['lib'])).name if info['lib'] else ''
    info['title'] = info['title'] or root.name
    return info

def _project_root(nbs:Path)->Path:
    "Folder holding pyproject.toml above `nbs` (or the parent of `nbs`)."
    for p in [nbs, *nbs.parents]:
        if (p/'pyproject.toml').exists(): return p
    return nbs.parent

def build(nbs:Path, out:Path, execute:bool=False, workers:int|None=None, quiet:bool=False)->int:
    "Build the site from the notebooks in `nbs` into `out`; returns the process exit status."
    t0 = time.time()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    nbs, out = nbs.resolve(), out.resolve()
    if not nbs.is_dir(): return _die(f"--nbs {nbs} is not a folder.")
    if out == nbs or nbs.is_relative_to(out) or out == Path(out.anchor):
        return _die(f"--out {out} would overwrite the notebooks: choose a separate folder such as _site.")
    nb_paths = find_notebooks(nbs)
    if not nb_paths: return _die(f"No notebooks found in {nbs}.")
    root = _project_root(nbs)
    entries, seen = [], {}
    for p in nb_paths:
        rel = PurePosixPath(p.relative_to(nbs).as_posix())
        page = page_of(rel)
        if page in seen: return _die(f"{rel} and {seen[page]} would both become {page}: rename one of them.")
        seen[page] = rel
        entries.append(dict(path=str(p), rel=str(rel), page=page, section=section_of(rel)))
    symbols, mods = scan_symbols(nb_paths, nbs)
    lib = _site_info(root)['lib']
    workers = max(1, min(workers or min(os.cpu_count() or 1, 4), len(entries)))
    say(f"Building docs for {len(entries)} notebooks from {nbs} ({'executing every cell' if execute else 'no execution'}, "
        f"{workers} workers)")
    jobs = [dict(path=e['path'], rel=e['rel'], execute=execute, symbols=symbols, root=str(root),
                 py=f"{lib}/{mods[e['rel']].replace('.', '/')}.py" if lib and e['rel'] in mods else None) for e in entries]
    results, failed = [], []
    ctx = mp.get_context('spawn')
    # --execute: a fresh process per notebook, as nbdev-test gives each its own state (needs Python >= 3.11)
    fresh = dict(max_tasks_per_child=1) if execute and sys.version_info >= (3, 11) else {}
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, **fresh) as ex:
        futs = {ex.submit(render_job, j): j for j in jobs}
        for f in cf.as_completed(futs):
            try: r = f.result()
            except Exception as e: r = dict(rel=futs[f]['rel'], error=f"{futs[f]['rel']}: worker died: {e!r}")
            if 'error' in r:
                failed.append(r)
                say(f"  FAILED {r['rel']}")
            else:
                results.append(r)
                say(f"  {r['rel']} -> {r['page']} ({r['seconds']:.1f} s)")
                for w in r['warnings']: say(f"    warning: {w}")
    if failed:
        for r in sorted(failed, key=lambda r: r['rel']): print(f"\nERROR {r['error']}", file=sys.stderr)
        return _die(f"{len(failed)} of {len(entries)} notebooks failed to process; {out} was left unchanged.")
    by_rel = {r['rel']: r for r in results}
    for e in entries:
        r = by_rel[e['rel']]
        e['title'], e['description'], e['description_html'] = r['title'], r['description'], r['description_html']
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f'.{out.name}.tmp-'))
    tmp.chmod(0o755)  # mkdtemp makes it private; a site is meant to be read
    try:
        write_site(tmp, results, entries, root, _site_info(root), has_index=any(e['page'] == 'index.html' for e in entries))
        replace_dir(tmp, out)
    except DocsError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        return _die(str(e))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"Wrote {out} ({len(entries)} pages) in {time.time() - t0:.1f} s. Open {out/'index.html'}")
    return 0

def _die(msg:str)->int:
    print(f"build_docs: {msg}", file=sys.stderr)
    return 1

def main(argv=None)->int:
    p = argparse.ArgumentParser(prog='build_docs.py', description=__doc__.split('\n\n')[0],
                                epilog=__doc__.split('\n\n', 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='_site', type=Path, help='folder for the site, replaced atomically (default: _site)')
    p.add_argument('--nbs', default=None, type=Path, help="notebooks folder (default: this project's nbs_path from pyproject's [tool.nbdev])")
    p.add_argument('--execute', action=argparse.BooleanOptionalAction, default=False,
                   help='run every notebook cell nbdev-test runs, to show example outputs (default: --no-execute, '
                        'which runs only exported, show_doc and import code: all functions are documented, examples '
                        'show their stored outputs)')
    p.add_argument('--workers', type=int, default=None, help='notebooks processed in parallel (default: CPUs, at most 4)')
    p.add_argument('-q', '--quiet', action='store_true', help='print errors only')
    a = p.parse_args(argv)
    nbs = a.nbs
    if nbs is None:  # this project's notebooks, wherever the command is run from
        try:
            from nbdev.config import get_config
            nbs = Path(get_config(Path(__file__).resolve().parents[1]).nbs_path)
        except Exception: nbs = Path(__file__).resolve().parents[1]/'nbs'
    return build(nbs, a.out, execute=a.execute, workers=a.workers, quiet=a.quiet)

if __name__ == '__main__': sys.exit(main())
