"""The offline docs site (tools/build_docs.py): every notebook becomes a page, every exported name is documented on
its module's page, every page carries the same navigation, and every internal link resolves."""
import ast, html, json, re, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
TOOL = ROOT/'tools'/'build_docs.py'
sys.path.insert(0, str(ROOT/'tools'))
import build_docs  # noqa: E402


PNG_1PX = ('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==')  # 1x1 PNG
VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}


class Page(HTMLParser):
    "Links, element ids, show_doc headings and sidebar links of one HTML page."
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.links, self.ids, self.doc_headings, self.nav_links = [], set(), {}, []
        self._stack, self._heading, self._in_nav = [], None, 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if a.get('name') and tag == 'a': self.ids.add(a['name'])
        for k in ('href', 'src'):
            if a.get(k) and tag in ('a', 'link', 'img', 'script'): self.links.append(a[k])
        if tag == 'nav': self._in_nav += 1
        if self._in_nav and tag == 'a' and a.get('href'): self.nav_links.append(a['href'])
        in_doc = any('celltag_showdoc' in (c or '') for t, c in self._stack)
        if tag in ('h2', 'h3', 'h4') and in_doc and a.get('id'): self._heading = [a['id'], '']
        if tag not in VOID: self._stack.append((tag, a.get('class')))

    def handle_endtag(self, tag):
        if tag == 'nav': self._in_nav -= 1
        if tag in ('h2', 'h3', 'h4') and self._heading:
            hid, text = self._heading
            self.doc_headings[text.replace('\u00b6', '').strip()] = hid
            self._heading = None
        if any(t == tag for t, c in self._stack):  # close up to the matching tag (tolerates unclosed <p>, <li>)
            while self._stack.pop()[0] != tag: pass

    def handle_data(self, data):
        if self._heading: self._heading[1] += data


def _default_exp(nb_path):
    for c in json.loads(nb_path.read_text(encoding='utf-8'))['cells']:
        if c['cell_type'] != 'code': continue
        m = re.search(r'^\s*#\|\s*default_exp\s+(\S+)', ''.join(c['source']), re.M)
        if m: return m.group(1)


def _module_all(mod):
    "`genobook.<mod>.__all__`, read from the generated module file (no import needed)."
    py = ROOT/'genobook'/(mod.replace('.', '/') + '.py')
    assert py.exists(), f"genobook/{mod}.py is missing: run nbdev-export"
    for o in ast.parse(py.read_text(encoding='utf-8')).body:
        if isinstance(o, ast.Assign) and any(getattr(t, 'id', None) == '__all__' for t in o.targets):
            return ast.literal_eval(o.value)
    return []


NOTEBOOKS = build_docs.find_notebooks(NBS)
PAGES = {nb: build_docs.page_of(PurePosixPath(nb.relative_to(NBS).as_posix())) for nb in NOTEBOOKS}


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "Build the site once (no execution) into a temporary folder; return {site path: parsed page}."
    out = tmp_path_factory.mktemp('docs')/'_site'
    r = subprocess.run([sys.executable, str(TOOL), '--out', str(out), '--no-execute', '--nbs', str(NBS)],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"build failed:\n{r.stdout}\n{r.stderr}"
    pages = {p.relative_to(out).as_posix(): Page(p.read_text(encoding='utf-8')) for p in out.rglob('*.html')}
    return out, pages


def test_every_notebook_has_a_page(site):
    out, pages = site
    assert NOTEBOOKS, "no notebooks found"
    for nb, page in PAGES.items(): assert page in pages, f"{nb.name} has no page {page}"
    assert 'index.html' in pages


def test_index_links_every_page(site):
    out, pages = site
    linked = {urlsplit(h).path for h in pages['index.html'].links}
    for nb, page in PAGES.items():
        if page != 'index.html': assert page in linked, f"index.html does not link {page} ({nb.name})"


def test_same_navigation_on_every_page(site):
    "Every page's sidebar links the same pages (hrefs resolved from the page's own folder)."
    out, pages = site
    def resolved(page, p):
        base = PurePosixPath(page).parent
        return sorted({str(PurePosixPath(*_norm(base/urlsplit(h).path))) for h in p.nav_links})
    navs = {page: resolved(page, p) for page, p in pages.items() if not page.startswith('src/')}
    ref = navs['index.html']
    assert set(PAGES.values()) <= set(ref) | {'index.html'}
    for page, nav in navs.items(): assert nav == ref, f"{page} has a different navigation"


def _norm(p):
    parts = []
    for x in PurePosixPath(p).parts:
        if x == '..': parts.pop()
        elif x != '.': parts.append(x)
    return parts


def test_every_exported_name_is_documented(site):
    "For each `#| default_exp X` notebook, every name in genobook.X.__all__ has a show_doc heading on its page."
    out, pages = site
    checked = 0
    for nb, page in PAGES.items():
        mod = _default_exp(nb)
        if not mod: continue
        docs = pages[page].doc_headings
        for name in _module_all(mod):
            assert name in docs, f"{name} (genobook.{mod}) is not documented on {page}; documented: {sorted(docs)}"
            assert docs[name] == build_docs.anchor_id(name)
            checked += 1
    assert checked or not any(_default_exp(nb) for nb in NOTEBOOKS)


def test_internal_links_resolve(site):
    "Every relative link or asset points to a file of the site, and every #fragment to an id on that page."
    out, pages = site
    bad = []
    for page, p in pages.items():
        for href in p.links:
            u = urlsplit(href)
            if u.scheme or href.startswith('//'):
                assert u.scheme in ('http', 'https', 'mailto', 'data'), f"{page}: odd link {href[:80]}"
                continue
            target = page if not u.path else '/'.join(_norm(PurePosixPath(page).parent/unquote(u.path)))
            if not (out/target).is_file(): bad.append(f"{page}: {href} -> missing {target}"); continue
            if u.fragment and target in pages and unquote(u.fragment) not in pages[target].ids:
                bad.append(f"{page}: {href} -> no id {u.fragment!r} in {target}")
    assert not bad, '\n'.join(bad[:30])


def test_no_external_assets(site):
    "Style sheets, scripts and images are local files or data URIs, so the site works offline from file://."
    out, pages = site
    for f in list(out.rglob('*.html')) + [out/'style.css']:
        text = f.read_text(encoding='utf-8')
        assert not re.search(r'''<(?:link|script|img)[^>]+(?:href|src)=["'](?:https?:)?//''', text), f
        assert not re.search(r'@import|url\(\s*["\']?(?:https?:)?//', text), f


def _stored_pngs(nb_path):
    return sum('image/png' in o.get('data', {}) for c in json.loads(nb_path.read_text(encoding='utf-8'))['cells']
               for o in c.get('outputs', []))


def test_stored_plots_reach_the_pages(site):
    "The site is built without executing examples, so a notebook's plots on its page are the PNGs stored in it."
    out, pages = site
    with_plots = {nb: n for nb in NOTEBOOKS if (n := _stored_pngs(nb))}
    assert with_plots, "no notebook has a stored plot"
    for nb, n in with_plots.items():
        text = (out/PAGES[nb]).read_text(encoding='utf-8')
        shown = len(re.findall(r'<img [^>]*src="data:image/png;base64,', text))
        assert shown >= n, f"{PAGES[nb]} shows {shown} of the {n} plots stored in {nb.name}"


def test_page_title_and_summary(site):
    "Each page shows the notebook's `# title` and `> summary`."
    out, pages = site
    for nb, page in PAGES.items():
        cells = json.loads(nb.read_text(encoding='utf-8'))['cells']
        md = next((''.join(c['source']) for c in cells if c['cell_type'] == 'markdown'), '')
        m = re.match(r'\s*#\s+(.+)', md)
        if not m: continue
        text = html.unescape((out/page).read_text(encoding='utf-8'))     # a title's ' or & is escaped in the page
        assert re.search(r'<h1 class="title">\s*' + re.escape(m.group(1).strip()), text), page


def test_failing_notebook_fails_the_build(tmp_path):
    "A notebook whose exported code raises stops the build with status 1, names the notebook, and writes nothing."
    nbs = tmp_path/'nbs'
    nbs.mkdir()
    cells = [dict(cell_type='markdown', metadata={}, source='# broken\n\n> A notebook that cannot be documented.'),
             dict(cell_type='code', metadata={}, execution_count=None, outputs=[], source='#| default_exp broken'),
             dict(cell_type='code', metadata={}, execution_count=None, outputs=[],
                  source='#| export\ndef f(x:int): # A number\n    "Doc."\n    return x\nraise RuntimeError("boom in export")')]
    nb = dict(cells=cells, metadata=dict(kernelspec=dict(name='python3', language='python', display_name='Python 3')),
              nbformat=4, nbformat_minor=5)
    (nbs/'00_broken.ipynb').write_text(json.dumps(nb))
    out = tmp_path/'site'
    r = subprocess.run([sys.executable, str(TOOL), '--nbs', str(nbs), '--out', str(out), '--workers', '1'],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert '00_broken.ipynb' in r.stderr and 'boom in export' in r.stderr, r.stderr
    assert not out.exists()


def _nb(*cells):
    "A notebook from (cell_type, source) pairs."
    cs = [dict(cell_type=t, metadata={}, source=s, **({'execution_count': None, 'outputs': []} if t == 'code' else {}))
          for t, s in cells]
    return json.dumps(dict(cells=cs, nbformat=4, nbformat_minor=5,
                           metadata=dict(kernelspec=dict(name='python3', language='python', display_name='Python 3'))))


def test_small_site_without_index(tmp_path):
    "Without nbs/index.ipynb a landing page is generated; tutorials get their own section; constants, classes, "
    "patched methods and math are documented; example cells are not run unless --execute."
    nbs = tmp_path/'nbs'
    (nbs/'tutorials').mkdir(parents=True)
    (nbs/'_draft.ipynb').write_text(_nb(('markdown', '# draft')))
    (nbs/'12_tiny.ipynb').write_text(_nb(
        ('markdown', '# tiny\n\n> A tiny module with `twice`.'),
        ('code', '#| default_exp tiny'),
        ('markdown', 'Doubling: $y = 2x$, see `twice`.\n\n## Doubling'),
        ('code', '#| export\nfrom fastcore.basics import patch\nSCALE = 2 # How much `twice` scales\n'
                 'class Box:\n    "Holds a number."\n    def __init__(self, x:int): self.x = x'),
        ('code', '#| export\ndef twice(x:int, # A number\n         )->int: # Twice `x`\n    "Double `x`."\n    return SCALE*x'),
        ('code', '#| export\n@patch\ndef grow(self:Box, by:int=1): # Increment\n    "Grow the box."\n    self.x += by'),
        ('code', '#| hide\nimport os'),
        ('code', 'print("example output", twice(21))'),
        ('code', 'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2]);'),
        ('code', 'print("stored output", 7); plt.plot([3, 1, 2]);'),
    ))
    # outputs stored in the notebook (as tools/run_notebooks.py stores them) are shown without --execute
    d = json.loads((nbs/'12_tiny.ipynb').read_text())
    d['cells'][-1]['outputs'] = [dict(output_type='stream', name='stdout', text=['stored output 7\n']),
                                 dict(output_type='display_data', metadata={}, data={'image/png': PNG_1PX, 'text/plain': ['<Figure>']})]
    (nbs/'12_tiny.ipynb').write_text(json.dumps(d))
    (nbs/'tutorials'/'01_walk.ipynb').write_text(_nb(('markdown', '# A walk\n\n> Using `twice`.'),
                                                      ('markdown', 'Call `twice()`:'), ('code', 'print(2*2)')))
    out = tmp_path/'site'
    run = lambda *a: subprocess.run([sys.executable, str(TOOL), '--nbs', str(nbs), '--out', str(out), '--workers', '1', *a],
                                    cwd=tmp_path, capture_output=True, text=True, timeout=300)
    r = run()
    assert r.returncode == 0, r.stdout + r.stderr
    assert {p.relative_to(out).as_posix() for p in out.rglob('*.html')} == {'index.html', 'tiny.html', 'tutorials/walk.html'}
    index, tiny = Page((out/'index.html').read_text()), (out/'tiny.html').read_text()
    assert {'tiny.html', 'tutorials/walk.html'} <= {urlsplit(h).path for h in index.links}
    docs = Page(tiny).doc_headings
    assert {'SCALE', 'Box', 'twice', 'Box.grow'} <= set(docs), docs
    assert 'example output 42' not in tiny                    # not executed by default
    assert 'stored output 7' in tiny and f'src="data:image/png;base64,{PNG_1PX}"' in tiny  # stored outputs are shown
    assert re.search(r'<img [^>]*class="math"[^>]*src="data:image/svg', tiny)  # $y = 2x$ drawn as SVG
    assert 'id="doubling"' in tiny
    assert 'href="#twice"' in tiny                            # `twice` links to its documentation
    walk = (out/'tutorials'/'walk.html').read_text()
    assert 'href="../tiny.html#twice"' in walk and 'href="../style.css"' in walk
    assert re.search(r'nav-section-title">Tutorials<', walk) and re.search(r'nav-section-title">Models<', walk)
    # a rebuild replaces the site; --execute shows example outputs
    r = run('--execute')
    assert r.returncode == 0, r.stdout + r.stderr
    tiny = (out/'tiny.html').read_text()
    assert 'example output 42' in tiny and re.search(r'<img [^>]*src="data:image/png;base64,', tiny)
    # a folder that is not a site built by the tool is never replaced
    other = tmp_path/'other'
    other.mkdir()
    (other/'keep.txt').write_text('precious')
    r = subprocess.run([sys.executable, str(TOOL), '--nbs', str(nbs), '--out', str(other), '--workers', '1'],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and 'not a site built by this tool' in r.stderr
    assert (other/'keep.txt').read_text() == 'precious'
