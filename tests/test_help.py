"help() shows the parameter descriptions (docments) without the docs site: genobook/__init__.py adds them to __doc__."
import inspect, subprocess, sys


def test_help_lists_parameters():
    import genobook.attr as attr, genobook.seq as seq
    doc = attr.attribute.__doc__
    assert 'Parameters' in doc
    # every documented parameter of attribute() appears once, with its comment
    for p in ('model', 'X', 'method', 'target', 'batch_size'):
        assert f"    {p}: " in doc, p
    assert doc.count('\nParameters\n') == 1
    assert 'Parameters' in seq.Genome.__doc__
    assert inspect.getsource(attr.attribute).startswith('def attribute')   # the loader still gives the source


def test_help_in_a_fresh_interpreter():
    out = subprocess.run([sys.executable, '-c', 'import genobook.ism, pydoc; print(pydoc.render_doc(genobook.ism.ism))'],
                         capture_output=True, text=True, check=True).stdout
    assert 'Parameters' in out and 'batch_size: ' in out
