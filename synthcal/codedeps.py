"""Which code a workflow rule runs, and a fingerprint of it that only a change of behaviour changes.

Every rule's ``code`` parameter is :func:`code_fingerprint` of its script: one short hash per file it runs (the
script itself and the files of the ``synthcal`` package it imports, directly or through other modules,
:func:`library_modules`), each computed from the file's syntax tree without comments, docstrings, blank lines or
formatting (:func:`module_fingerprint`). Snakemake reruns a job when a parameter changes, so an edit of the code
a rule runs reruns it and what depends on it, while a comment, a docstring or a reformatting reruns nothing (the
profiles leave out Snakemake's own ``code`` trigger, which compares the script's modification time). GAN training
stamps its checkpoints with the same fingerprint of the modules that compute it, so that it resumes only what the
same code wrote. Two rules keep the list of files honest and small:

* only **module-level** imports count, and an import of a ``synthcal`` module inside a function is an error
  (:class:`HiddenImportError`): a dependency that the workflow cannot see is one that never triggers a rerun;
* a module that changes no output (logging set-up, CPU placement) says so with a module-level
  ``AFFECTS_OUTPUTS = False`` and is left out, so editing it reruns nothing;
* relative imports count as their absolute names, and ``importlib.import_module("literal")`` anywhere counts as an
  import; a module that loads modules named at run time must declare how they are tracked (``DYNAMIC_IMPORTS``:
  the architecture modules are part of a job's fingerprint only when its configuration builds that architecture).

The fingerprint of a file does not depend on the Python version (:func:`canonical_dump`), so a Python upgrade reruns
nothing by itself; the versions of torch, NNCF, OpenVINO and numpy are recorded with every result instead.

Drawing, reporting and table code live in their own modules (``figures``, ``aggregate``), which only the cheap
figure and table rules import; an edit there never reruns training, dumps, calibration sets or quantization.

``python -m synthcal.codedeps`` prints every rule with the script it runs and the modules it depends on.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib.util
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from synthcal.rulefiles import rule_scripts

#: The fingerprint decides what reruns; it computes no result (a change here reruns what the fingerprints change).
AFFECTS_OUTPUTS = False

PACKAGE = "synthcal"
#: Module-level flag of a module whose edits change no output (it is not a rerun trigger).
MARKER = "AFFECTS_OUTPUTS"
#: Module-level declaration of a module that loads modules named at run time (importlib), saying how they are
#: tracked instead (e.g. the architecture modules: each job's arch_code parameter).
DYNAMIC = "DYNAMIC_IMPORTS"


class HiddenImportError(ValueError):
    """A ``synthcal`` module is imported inside a function, where the workflow's dependency scan does not look."""


def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of a dotted module name under ``root`` (the folder holding the package), if it is one."""
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _package_of(path: Path | None, root: Path | None) -> list[str]:
    """The dotted package parts of a module file under ``root`` (``synthcal/gan/train.py`` -> synthcal, gan)."""
    if path is None or root is None:
        return []
    try:
        parts = list(Path(path).resolve().relative_to(Path(root).resolve()).with_suffix("").parts)
    except ValueError:
        return []
    return parts[:-1]  # a module's package; for a package's __init__.py, the package itself


def _import_names(node: ast.Import | ast.ImportFrom, path: Path | None = None, root: Path | None = None) -> set[str]:
    """Dotted names an import statement imports, relative imports resolved against the module's package."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = _package_of(path, root)
        if node.level - 1 > len(package) or not package:
            return set()
        anchor = package[:len(package) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    if not base:
        return set()
    return {base} | {f"{base}.{alias.name}" for alias in node.names}  # `from pkg import module`


def _importlib_target(node: ast.Call) -> ast.expr | None:
    """The module argument of ``importlib.import_module(...)`` / ``import_module(...)``, else None."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name == "import_module" and node.args:
        return node.args[0]
    return None


def _ours(names: Iterable[str]) -> set[str]:
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


def _declares(tree: ast.Module, name: str) -> bool:
    """Whether a module assigns ``name`` at module level."""
    return any(isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
               for node in tree.body)


def _module_level_imports(tree: ast.Module, path: Path, root: Path | None = None) -> set[str]:
    """Dotted names imported when the module runs (``if TYPE_CHECKING:`` blocks excluded), relative imports
    resolved, plus the modules that ``importlib.import_module("literal")`` loads anywhere in it.

    Raises:
        HiddenImportError: a ``synthcal`` import sits inside a function or lambda, or ``import_module`` loads a
            module named by a variable in a module that does not declare ``DYNAMIC_IMPORTS`` (how those loads reach
            the fingerprints).
    """
    names: set[str] = set()
    dynamic_declared = _declares(tree, DYNAMIC)

    def visit(node: ast.AST, in_function: bool) -> None:
        if _is_type_checking(node):
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found = _import_names(node, path, root)
            if in_function and _ours(found):
                raise HiddenImportError(
                    f"{path}:{node.lineno} imports {', '.join(sorted(_ours(found)))} inside a function; move the "
                    "import to the top of the module so that the workflow sees the dependency (synthcal.codedeps)")
            if not in_function:
                names.update(found)
        if isinstance(node, ast.Call) and (target := _importlib_target(node)) is not None:
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                names.add(target.value)
            elif not dynamic_declared:
                raise HiddenImportError(
                    f"{path}:{node.lineno} loads a module named at run time (import_module); declare how those "
                    f"modules reach the fingerprints with a module-level {DYNAMIC} = '...' (synthcal.codedeps)")
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return names


def _catches_import_error(node: ast.Try) -> bool:
    names = set()
    for handler in node.handlers:
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        names.update(t.id for t in types if isinstance(t, ast.Name))
    return bool(names & {"ImportError", "ModuleNotFoundError"})


def third_party_imports(path: str | Path) -> set[str]:
    """Top-level names of the non-``synthcal`` modules ``path`` needs: every import, lazy ones inside functions
    included, except those under ``if TYPE_CHECKING:`` or in a ``try`` that handles ``ImportError`` (optional)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking(node):
            return
        if isinstance(node, ast.Try) and _catches_import_error(node):
            for child in node.handlers + node.orelse + node.finalbody:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom) and node.level):
            found.update(n.split(".")[0] for n in _import_names(node))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(Path(path).read_text(), filename=str(path)))
    return {n for n in found if n != PACKAGE}


def _version(path: str | Path) -> tuple[str, str]:
    """A file's resolved path and the digest of its bytes: the caches below are keyed on it, so that each version of
    a file is parsed once per process and an edit is always seen."""
    resolved = Path(path).resolve()
    return str(resolved), hashlib.sha1(resolved.read_bytes()).hexdigest()


@functools.cache
def _parsed(version: tuple[str, str]) -> ast.Module:
    """A file's syntax tree, parsed once per version (shared: callers must not change it)."""
    return ast.parse(Path(version[0]).read_text(), filename=version[0])


@functools.cache
def _imports(version: tuple[str, str], root: str) -> frozenset[str]:
    return frozenset(_module_level_imports(_parsed(version), Path(version[0]), Path(root)))


def affects_outputs(path: Path) -> bool:
    """False when the module declares ``AFFECTS_OUTPUTS = False`` at module level."""
    tree = _parsed(_version(path))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == MARKER for t in node.targets)
                and isinstance(node.value, ast.Constant) and node.value.value is False):
            return False
    return True


def library_modules(script: str | Path, root: str | Path, *, include_silent: bool = False) -> list[Path]:
    """Every file of the ``synthcal`` package that ``script`` imports at module level, directly or through other
    modules, including the ``__init__.py`` of each package on the way; modules marked ``AFFECTS_OUTPUTS = False``
    are left out unless ``include_silent``. ``root`` is the folder that holds ``synthcal/``.

    Raises:
        HiddenImportError: the script or a module it reaches imports ``synthcal`` inside a function.
    """
    root = Path(root)
    seen: set[Path] = set()
    pending = [Path(script)]
    while pending:
        path = pending.pop()
        for dotted in _ours(_imports(_version(path), str(root))):
            parts = dotted.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__.py and a/b/__init__.py too
                found = _module_file(root, ".".join(parts[:i]))
                if found is not None and found not in seen:
                    seen.add(found)
                    pending.append(found)
    return sorted(p for p in seen if include_silent or affects_outputs(p))


class _StripDocstrings(ast.NodeTransformer):
    """Drop statements that are a bare string (docstrings of modules, classes and functions, attribute
    docstrings): they never change what the code computes."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and all(isinstance(n, ast.stmt) for n in body):
            kept = [n for n in body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                                            and isinstance(n.value.value, str))]
            node.body = kept or [ast.Pass()]  # type: ignore[attr-defined]
        return node


def canonical_dump(node: object) -> str:
    """A syntax tree as text that does not depend on the Python version: node names and their fields by name, fields
    that are empty or None left out (newer Pythons add fields, such as ``type_params``, that old code leaves empty,
    and ``ast.dump``'s text changes between versions), locations left out."""
    if isinstance(node, ast.AST):
        fields = []
        for name in node._fields:
            value = getattr(node, name, None)
            if value is None or value == [] or value == ():
                continue
            fields.append(f"{name}={canonical_dump(value)}")
        return f"{type(node).__name__}({','.join(fields)})"
    if isinstance(node, list):
        return "[" + ",".join(canonical_dump(v) for v in node) + "]"
    return repr(node)


def normalized_source(path: str | Path) -> str:
    """The syntax tree of a Python file without docstrings, as version-independent text (:func:`canonical_dump`):
    comments, blank lines, line breaks and formatting leave it unchanged; any change of what the code does
    changes it."""
    tree = ast.parse(Path(path).read_text(), filename=str(path))
    return canonical_dump(_StripDocstrings().visit(tree))


def module_fingerprint(path: str | Path) -> str:
    """The first 12 hex digits of the sha256 of :func:`normalized_source` (computed once per file version)."""
    return _fingerprint(_version(path))


@functools.cache
def _fingerprint(version: tuple[str, str]) -> str:
    return hashlib.sha256(normalized_source(version[0]).encode()).hexdigest()[:12]


def code_fingerprint(files: Iterable[str | Path], root: str | Path) -> dict[str, str]:
    """``{path relative to root: module_fingerprint}`` of ``files``, sorted by path."""
    root = Path(root).resolve()
    return {Path(f).resolve().relative_to(root).as_posix(): module_fingerprint(f)
            for f in sorted(files, key=lambda f: Path(f).resolve().as_posix())}


def script_fingerprint(script: str | Path, root: str | Path) -> dict[str, str]:
    """The fingerprint of what a rule's script runs: the script and every library module it depends on
    (:func:`library_modules`; modules marked ``AFFECTS_OUTPUTS = False`` left out)."""
    return code_fingerprint([Path(script), *library_modules(script, root)], root)


def module_code(module_file: str | Path) -> dict[str, str]:
    """The fingerprint of a library module and everything it imports at module level (what computes the results
    of its functions): for records that must belong to the code that wrote them, such as training checkpoints."""
    module_file = Path(module_file).resolve()
    root = next(p.parent for p in module_file.parents if p.name == PACKAGE)
    return code_fingerprint([module_file, *library_modules(module_file, root)], root)


@contextlib.contextmanager
def first_on_path(folder: str | None) -> Iterator[None]:
    """``folder`` first on ``sys.path`` for the duration (a user's ``python_path``)."""
    if not folder:
        yield
        return
    folder = str(Path(folder).resolve())
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)


def factory_source(factory: str, python_path: str | None = None) -> Path | None:
    """The source file of a factory's module (``module:function``), found without running it, or None."""
    with first_on_path(python_path):
        spec = importlib.util.find_spec(factory.partition(":")[0])
    return Path(spec.origin) if spec is not None and spec.origin and spec.origin.endswith(".py") else None


def _package_inits(root: Path, dotted: str) -> list[Path]:
    """The ``__init__.py`` of every package above a dotted module under ``root`` (importing ``a.b.c`` runs
    ``a/__init__.py`` and ``a/b/__init__.py``)."""
    parts = dotted.split(".")
    inits = [root.joinpath(*parts[:i], "__init__.py") for i in range(1, len(parts))]
    return [p.resolve() for p in inits if p.is_file()]


def factory_files(factory: str, python_path: str | None = None) -> list[Path]:
    """Every source file a user's factory runs beyond the installed packages: its module and, transitively, the
    modules it imports (absolute or relative) that live in the same tree (``python_path``, or the folder its
    top-level package sits in), and the ``synthcal`` modules it imports with what they import."""
    source = factory_source(factory, python_path)
    if source is None:
        return []
    module = factory.partition(":")[0]
    depth = module.count(".") + (1 if source.name == "__init__.py" else 0)
    tree_root = Path(python_path).resolve() if python_path else source.resolve().parents[depth]
    library_root = Path(__file__).resolve().parents[1]
    seen: set[Path] = set()
    pending = [source.resolve()] + _package_inits(tree_root, module)
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= _import_names(node, path, tree_root)
        for dotted in names:
            root = library_root if dotted == PACKAGE or dotted.startswith(PACKAGE + ".") else tree_root
            found = _module_file(root, dotted)
            if found is not None and found.resolve() not in seen:
                if root is library_root:
                    seen.update(p.resolve() for p in [found, *library_modules(found, library_root)])
                else:
                    pending += [found.resolve(), *_package_inits(tree_root, dotted)]
    return sorted(seen)


def main(argv: list[str] | None = None) -> None:
    """Print each rule, its script and the files it runs with their fingerprints (the rule's ``code`` parameter)."""
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[1]
    for rule, script in sorted(rule_scripts(root / "rules").items()):
        print(f"{rule} ({script}):")
        for path, digest in script_fingerprint(root / "workflow_scripts" / script, root).items():
            print(f"    {digest}  {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
