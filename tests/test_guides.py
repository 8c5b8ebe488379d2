"""The guides in docs/ are tested like code.

Their ``>>>`` examples run as doctests (``docs`` is in pytest's testpaths); these tests
check the rest: every Python block is such an example, every link leads somewhere real,
every function a guide names exists where it says, every page is reachable from the index,
and the op reference covers every differentiable method of ``Tensor``.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lite import Tensor, nn

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```(.*)$")
LINK = re.compile(r"\[([^\[\]]+)\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`]+)`")


def _page_id(path: Path) -> str:
    return path.name


def _blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """(line number, language, lines) of every fenced block; an unclosed fence fails."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening:
            start, language = i + 1, opening.group(1).strip()
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            assert i < len(lines), f"line {start}: the code block is never closed"
            blocks.append((start, language, body))
        i += 1
    return blocks


def _prose(text: str) -> str:
    """The text outside fenced blocks (links and code spans live there)."""
    return "\n".join(
        "" if in_block else line for line, in_block in zip(text.splitlines(), _in_block(text))
    )


def _in_block(text: str) -> list[bool]:
    flags, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            flags.append(True)
            inside = not inside
        else:
            flags.append(inside)
    return flags


def _slug(heading: str) -> str:
    """The anchor mkdocs (Python-Markdown's toc) gives a heading."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[-\s]+", "-", text)


def _anchors(path: Path) -> set[str]:
    lines = _prose(path.read_text()).splitlines()
    return {_slug(line.lstrip("#")) for line in lines if line.startswith("#")}


# ------------------------------------------------------------------ every sample runs


def test_docs_run_as_doctests() -> None:
    # (tomllib is Python 3.11+: the two lines are read as text.)
    config = (ROOT / "pyproject.toml").read_text()
    testpaths = re.search(r"^testpaths = \[(.*)\]$", config, re.M)
    assert testpaths and '"docs"' in testpaths.group(1), "docs/ is not in pytest's testpaths"
    assert "--doctest-glob='*.md'" in config


def _checked_by_a_test(marker: str) -> bool:
    """Whether a test file looks the block up by its marker (and so checks it)."""
    tests = [t for t in (ROOT / "tests").glob("test_*.py") if t.name != Path(__file__).name]
    return any(marker in test.read_text() for test in tests)


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_every_python_block_is_a_doctest(path: Path) -> None:
    # A Python block that is not made of >>> examples would never run: it could rot. The
    # one exception is a block that a test reads and checks (a generated program shown as
    # it is): it follows a marker, <!-- name -->, that the test searches for.
    lines = path.read_text().splitlines()
    for line, language, body in _blocks(path.read_text()):
        assert language, f"{path.name}:{line}: a code block needs a language (python, text, sh)"
        if language in ("python", "py", "pycon"):
            code = [text for text in body if text.strip()]
            marker = re.fullmatch(r"<!-- (.+) -->", lines[line - 2]) if line >= 2 else None
            if marker and _checked_by_a_test(marker.group(1)):
                continue
            assert code and code[0].startswith(">>> "), (
                f"{path.name}:{line}: a python block must be >>> examples, so that it runs "
                f"(or follow a <!-- marker --> that a test in tests/ reads it by)"
            )
            # doctest reads expected output up to a blank line: without one before the
            # fence, the fence would be taken as output.
            if not body[-1].startswith((">>>", "...")):
                assert body[-1] == "", f"{path.name}:{line}: end the block with a blank line"
        else:
            assert not any(text.startswith(">>> ") for text in body), (
                f"{path.name}:{line}: >>> examples belong in a python block"
            )


# ---------------------------------------------------------------------- links


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_links_lead_somewhere(path: Path) -> None:
    for text, target in LINK.findall(_prose(path.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # an outside address
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        assert destination.exists(), f"{path.name}: [{text}]({target}) leads to no file"
        if anchor and destination.suffix == ".md":
            assert anchor in _anchors(destination), (
                f"{path.name}: [{text}]({target}): {destination.name} has no heading #{anchor}"
            )


@cache
def _definitions(path: Path) -> set[str]:
    """The dotted names a Python file defines: functions, classes, their methods and
    attributes (``Function.apply``, ``Function.inputs``), module-level constants."""
    names: set[str] = set()
    tree = ast.parse(path.read_text())

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(prefix + node.name)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(prefix + node.target.id)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names.add(prefix + target.id)
                        if target.id == "__slots__" and isinstance(node.value, ast.Tuple):
                            names.update(
                                prefix + elt.value
                                for elt in node.value.elts
                                if isinstance(elt, ast.Constant)
                            )
            elif isinstance(node, ast.If):  # if TYPE_CHECKING: ... and the like
                visit(node.body, prefix)

    visit(tree.body, "")
    # Attributes set in methods (self._ctx = ...) count as the class's.
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for node in ast.walk(cls):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "t")
            ):
                names.add(f"{cls.name}.{node.attr}")
    return names


def _named_code(path: Path) -> list[tuple[str, Path, str]]:
    """(link text, file, name) for every link to a .py file whose text names code."""
    found = []
    for text, target in LINK.findall(_prose(path.read_text())):
        file_part = target.partition("#")[0]
        if not file_part.endswith(".py"):
            continue
        source = (path.parent / file_part).resolve()
        for span in CODE.findall(text):
            name = span.removesuffix("()").split("(")[0]
            # `engine.backward` in engine.py names backward, `tl.gradcheck` in gradcheck.py
            # names gradcheck (tl is the package); `fp_quiet` names itself.
            name = name.removeprefix("tl.").removeprefix(source.stem + ".")
            found.append((text, source, name))
    return found


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_named_functions_exist_where_the_link_says(path: Path) -> None:
    for text, source, name in _named_code(path):
        assert source.is_file(), f"{path.name}: [{text}] links to {source}, which is missing"
        assert name in _definitions(source), (
            f"{path.name}: [{text}] names {name}, which {source.relative_to(ROOT)} does not "
            f"define (renamed or moved? update the guide)"
        )


@cache
def _spans(path: Path) -> dict[str, tuple[int, int]]:
    """The first and last line of each function, class, method and module-level name that
    a Python file defines, by dotted name (as ``_definitions`` names them)."""
    spans: dict[str, tuple[int, int]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                spans[prefix + node.name] = (node.lineno, node.end_lineno or node.lineno)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    spans[prefix + target.id] = (node.lineno, node.end_lineno or node.lineno)

    visit(ast.parse(path.read_text()).body, "")
    return spans


LINE_RANGE = re.compile(r"#L(\d+)-L(\d+)$")


def _line_ranges(path: Path) -> list[tuple[str, Path, str, tuple[int, int]]]:
    """(link text, file, name, (first, last)) for each link to code with a line range."""
    found = []
    for text, target in LINK.findall(_prose(path.read_text())):
        lines = LINE_RANGE.search(target)
        file_part = target.partition("#")[0]
        if lines and file_part.endswith(".py"):
            source = (path.parent / file_part).resolve()
            (span,) = CODE.findall(text)
            name = span.removesuffix("()").split("(")[0]
            name = name.removeprefix("tl.").removeprefix(source.stem + ".")
            found.append((text, source, name, (int(lines.group(1)), int(lines.group(2)))))
    return found


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_line_ranges_are_those_of_the_named_code(path: Path) -> None:
    # A link such as [`_gradients`](../tinygrad_lite/engine.py#L62-L85) must point at the
    # lines where that function is, from its def to its last line: edit the code, and this
    # test says which numbers to write instead.
    for text, source, name, lines in _line_ranges(path):
        where = _spans(source).get(name)
        assert where == lines, (
            f"{path.name}: [{text}] says lines {lines[0]}-{lines[1]} of "
            f"{source.relative_to(ROOT)}, where {name} is at "
            f"{'no line' if where is None else f'#L{where[0]}-L{where[1]}'}"
        )


def test_internals_gives_a_reading_order_with_line_ranges() -> None:
    ranges = _line_ranges(DOCS / "internals.md")
    assert len(ranges) >= 10, "internals.md: the reading order links each step to its lines"
    files = {source.name for _, source, _, _ in ranges}
    assert {"tensor.py", "function.py", "engine.py"} <= files


def test_the_line_range_check_catches_a_stale_range() -> None:
    engine = ROOT / "tinygrad_lite" / "engine.py"
    first, last = _spans(engine)["_gradients"]
    assert last > first
    assert _spans(engine)["_gradients"] != (first + 1, last + 1)


def test_no_text_block_stands_in_for_a_table_of_code() -> None:
    # A file-and-function reference belongs in a Markdown table with links, which the link
    # tests read; inside a ```text block nothing would check it.
    for path in PAGES:
        for line, _, body in _blocks(path.read_text()):
            stale = [text for text in body if re.search(r"\b\w+\.py: \w", text)]
            assert not stale, f"{path.name}:{line}: {stale[0].strip()} (use a table with links)"


def test_internals_follows_the_code_through_every_core_file() -> None:
    named = _named_code(DOCS / "internals.md")
    files = {str(source.relative_to(ROOT / "tinygrad_lite")) for _, source, _ in named}
    core = ("function.py", "engine.py", "tensor.py", "grad_mode.py", "autograd.py")
    for name in core + ("ops/elementwise.py", "ops/reductions.py", "ops/movement.py"):
        assert name in files, f"internals.md links no function of tinygrad_lite/{name}"
    assert len(named) >= 30, "internals.md should link each step to the code that does it"


def test_the_name_check_catches_a_stale_name() -> None:
    # The check above is only worth something if it fails on a name that is not there.
    engine = ROOT / "tinygrad_lite" / "engine.py"
    assert "backward" in _definitions(engine)
    assert "backward_pass" not in _definitions(engine)
    assert "Function.apply" in _definitions(ROOT / "tinygrad_lite" / "function.py")
    assert "Tensor._ctx" in _definitions(ROOT / "tinygrad_lite" / "tensor.py")
    # and the exception for blocks a test checks needs a marker that a test really uses.
    assert _checked_by_a_test("the XOR step's source")
    assert not _checked_by_a_test("a marker no test searches for")


# ------------------------------------------------------------------ every page reachable


def test_every_page_is_linked_from_the_index_and_in_the_site() -> None:
    linked = {
        target.partition("#")[0]
        for _, target in LINK.findall(_prose((DOCS / "index.md").read_text()))
    }
    nav = (ROOT / "mkdocs.yml").read_text()
    for path in PAGES:
        if path.name != "index.md":
            assert path.name in linked, (
                f"docs/{path.name} is not linked from docs/index.md: add it to the list of guides"
            )
        assert re.search(rf":\s*{re.escape(path.name)}\s*$", nav, re.M), (
            f"docs/{path.name} is not in the nav of mkdocs.yml"
        )


# ------------------------------------------------------------------ the op reference

# Public names of Tensor that are not differentiable ops: attributes, conversions out of
# the graph, the backward pass itself, in-place changes (counted, never recorded) and
# constructors. Everything else public must be in docs/ops.md.
NOT_OPS = {
    "argmax": "indices",
    "argmin": "indices",
    "data": "attribute",
    "grad": "attribute",
    "requires_grad": "attribute",
    "shape": "attribute",
    "ndim": "attribute",
    "size": "attribute",
    "dtype": "attribute",
    "is_leaf": "attribute",
    "numpy": "conversion",
    "item": "conversion",
    "tolist": "conversion",
    "detach": "conversion",
    "backward": "the backward pass",
    "add_": "in place",
    "sub_": "in place",
    "mul_": "in place",
    "copy_": "in place",
    "zero_": "in place",
    "zeros": "constructor",
    "ones": "constructor",
    "eye": "constructor",
    "uniform": "constructor",
    "randn": "constructor",
}
# Special methods that are not ops: construction, conversion, printing, assignment.
NOT_OP_DUNDERS = {
    "__init__",
    "__array__",
    "__array_function__",
    "__array_ufunc__",
    "__len__",
    "__bool__",
    "__float__",
    "__repr__",
    "__setitem__",
}


def _public_ops() -> set[str]:
    return {n for n in dir(Tensor) if not n.startswith("_") and n not in NOT_OPS}


def _op_dunders() -> set[str]:
    return {
        n
        for n, value in vars(Tensor).items()
        if n.startswith("__") and callable(value) and n not in NOT_OP_DUNDERS
    }


def _reference_rows() -> list[list[str]]:
    """The cells of every table row in docs/ops.md (header and rule lines left out)."""
    rows = []
    for line in _prose((DOCS / "ops.md").read_text()).splitlines():
        if line.startswith("|") and not re.match(r"\|\s*-", line):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells[0] not in ("method", "operator"):
                rows.append(cells)
    return rows


def _documented(prefix: str = "t") -> set[str]:
    """Method names in the first column of the op tables (``t.sum(axis=None)`` gives sum,
    ``t.T`` gives T) and special methods anywhere in a row (``__radd__``); with
    ``prefix="nn"``, the functions of nn instead (``nn.cross_entropy(x, y)``)."""
    names = set()
    for cells in _reference_rows():
        for span in CODE.findall(cells[0]):
            names.update(re.findall(rf"^{prefix}\.(\w+)", span))
        if prefix != "t":
            continue
        for cell in cells:
            names.update(re.findall(r"`(__\w+__)`", cell))
    return names


def test_ops_reference_names_every_differentiable_method() -> None:
    missing = sorted(_public_ops() - _documented())
    assert not missing, f"docs/ops.md does not document Tensor.{missing}"


def test_ops_reference_names_every_operator_and_reflected_form() -> None:
    missing = sorted(_op_dunders() - _documented())
    assert not missing, f"docs/ops.md does not document Tensor.{missing}"


def test_ops_reference_documents_only_what_exists() -> None:
    gone = sorted(n for n in _documented() if not hasattr(Tensor, n))
    assert not gone, f"docs/ops.md documents Tensor.{gone}, which Tensor no longer has"
    gone = sorted(n for n in _documented("nn") if not hasattr(nn, n))
    assert not gone, f"docs/ops.md documents nn.{gone}, which nn no longer has"


def test_the_exclusions_are_not_differentiable() -> None:
    # Each name kept out of the reference really makes no recorded op.
    t = Tensor([2.0], requires_grad=True)
    for name, kind in NOT_OPS.items():
        value = getattr(Tensor, name, None)
        if kind == "attribute":
            assert not callable(getattr(t, name)) or name == "grad", name
        elif kind == "conversion":
            result = getattr(t, name)()
            assert not (isinstance(result, Tensor) and result.requires_grad), name
        elif kind == "in place":
            assert name.endswith("_") and callable(value), name
        elif kind == "constructor":
            assert isinstance(vars(Tensor)[name], staticmethod), name
    assert isinstance(t.numpy(), np.ndarray)


def test_the_op_check_would_notice_a_new_method() -> None:
    # The introspection sees a method the moment it is added.
    class Wider(Tensor):
        def softplus(self) -> Tensor:
            return (1 + self.exp()).log()

    assert "softplus" in {n for n in dir(Wider) if not n.startswith("_")} - NOT_OPS.keys()
    assert "softplus" not in _documented()


# Words that mark a docstring's rule as prose ("dx = grad summed over the broadcast axes")
# rather than a formula the reference can quote.
PROSE = {"the", "with", "over", "by", "at", "to", "like", "back", "its"}


def _primitives() -> dict[str, type]:
    from tinygrad_lite import ops
    from tinygrad_lite.function import Function

    return {
        name: value
        for name, value in vars(ops).items()
        if isinstance(value, type) and issubclass(value, Function) and value is not Function
    }


def test_ops_reference_names_every_primitive() -> None:
    linked = {
        name for _, source, name in _named_code(DOCS / "ops.md") if source.parent.name == "ops"
    }
    missing = sorted(set(_primitives()) - linked)
    assert not missing, f"docs/ops.md does not link the primitives {missing} of ops/"


def test_ops_reference_quotes_each_primitive_rule() -> None:
    # Each primitive's docstring states its math on its first line ("out = ...    dx = ...");
    # the reference must show the same formulas, so a changed rule changes the page too.
    # The same for forward mode's rule, the docstring's line "out_t = ...".
    spans = set(CODE.findall(_prose((DOCS / "ops.md").read_text())))
    for name, cls in _primitives().items():
        lines = (cls.__doc__ or "").strip().splitlines()
        tangent = [line.strip() for line in lines if line.strip().startswith("out_t =")]
        assert tangent, f"{name}'s docstring has no line 'out_t = ...' (its jvp rule)"
        for formula in [*re.split(r"\s{3,}", lines[0]), tangent[0]]:
            if PROSE & set(formula.split()):
                continue
            # In a table, a `|` would end the cell: |x| is written abs(x) there.
            formula = re.sub(r"\|(\w+)\|", r"abs(\1)", formula)
            assert formula in spans, f"docs/ops.md does not show {name}'s `{formula}`"
