"""The library's import structure, read from the source: imports go one way between the packages
of ``text_distill.distill`` (each package's docstring says which it may import), no module imports
itself back through others, and the library never imports Kedro or the project's Kedro side.

Every ``import`` statement counts, wherever it stands: at the top, inside a function (a lazy
import) or under ``TYPE_CHECKING``. Modules loaded by name through a registry (the built-in student
kinds) are not import statements and are not counted."""

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
LIBRARY = "text_distill.distill"
ALLOWED_OUTSIDE = {"text_distill.errors"}  # the one project module the library may use
MAY_IMPORT = re.compile(r"^May import: (.+)\.$", re.MULTILINE)


def module_files() -> dict[str, Path]:
    files = {}
    for path in sorted((SRC / "text_distill").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    return files


FILES = module_files()


def imported(module: str) -> set[str]:
    """Every module of the project that ``module`` imports, anywhere in its file."""
    path = FILES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            # ``from a import b`` imports a, and b when b is a module
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return {name for name in names if name in FILES and name != module}


GRAPH = {module: imported(module) for module in FILES}


def package_of(module: str) -> str | None:
    """The library package a module belongs to (``training`` for ``text_distill.distill.training.x``)."""
    if not module.startswith(f"{LIBRARY}."):
        return None
    return module.split(".")[2]


def packages() -> dict[str, set[str]]:
    """Each library package and the packages its docstring says it may import."""
    allowed = {}
    for module, path in FILES.items():
        if module.count(".") == 2 and module.startswith(f"{LIBRARY}.") and path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            line = MAY_IMPORT.search(doc)
            assert line, f"{path.relative_to(SRC)}: its docstring has no 'May import: ...' line"
            named = line.group(1)
            allowed[module.split(".")[2]] = (
                set() if named == "nothing of the library" else {n.strip() for n in named.split(",")}
            )
    return allowed


PACKAGES = packages()


def test_every_library_module_is_in_a_package_that_says_what_it_may_import() -> None:
    loose = [
        m
        for m in FILES
        if m.startswith(f"{LIBRARY}.") and m.count(".") == 2 and m.split(".")[2] not in PACKAGES
    ]
    assert loose == []
    for name, allowed in PACKAGES.items():
        assert allowed <= set(PACKAGES), f"{name} may import unknown packages {allowed - set(PACKAGES)}"


def test_the_packages_are_layered() -> None:
    """The docstrings' permissions themselves form no loop (a loop would let imports circle)."""
    order: list[str] = []
    remaining = dict(PACKAGES)
    while remaining:
        ready = [name for name, allowed in remaining.items() if allowed <= set(order)]
        assert ready, f"the packages' 'May import' lines form a loop among {sorted(remaining)}"
        order.extend(sorted(ready))
        for name in ready:
            del remaining[name]


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_imports_go_one_way(package: str) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if package_of(module) == package
        for target in targets
        if package_of(target) not in {package, *PACKAGES[package]}
        and not (package_of(target) is None and target in ALLOWED_OUTSIDE)
    )
    assert wrong == [], f"distill.{package} may import only {sorted(PACKAGES[package])}"


def test_the_library_imports_no_kedro() -> None:
    offenders = []
    for module, path in FILES.items():
        if package_of(module) is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            offenders += [
                f"{module} imports {name}" for name in names if name.split(".")[0].startswith("kedro")
            ]
    assert offenders == []


def test_no_module_imports_itself_back() -> None:
    """No circle among the project's modules (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert circles == []


def test_the_reader_sees_lazy_imports() -> None:
    """The graph counts an import inside a function: the teacher's fine-tune imports its Ray
    engine only when ``teacher.engine`` is ray."""
    assert f"{LIBRARY}.training.teacher_on_ray" in GRAPH[f"{LIBRARY}.training.teacher_training"]


def test_no_stage_imports_another_stage() -> None:
    """Stages share wiring through ``text_distill.pipelines`` (``inputs``: the declared input
    mappings; ``__init__``: the node helpers), never through each other's modules."""
    stage = re.compile(r"^text_distill\.pipelines\.(\w+)\.")
    crossing = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if (own := stage.match(module + "."))
        for target in targets
        if (other := stage.match(target + ".")) and other[1] != own[1] and other[1] != "inputs"
    )
    assert crossing == []
