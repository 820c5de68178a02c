"""The public API: what `dynamorm_async` exports, and every module's `__all__`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing

import pytest

import dynamorm_async

PUBLIC_MODULES = [
    "dynamorm_async.errors",
    "dynamorm_async.testing",
    "dynamorm_async.convert",
    "dynamorm_async.expressions",
    "dynamorm_async.mapping",
    "dynamorm_async.specs",
    "dynamorm_async.query",
    "dynamorm_async.transport",
    "dynamorm_async.db",
    "dynamorm_async.cli",
]


def all_module_names() -> list[str]:
    names = ["dynamorm_async"]
    for info in pkgutil.walk_packages(dynamorm_async.__path__, prefix="dynamorm_async."):
        names.append(info.name)
    return sorted(names)


ALL_MODULES = all_module_names()


def public_names(module: types.ModuleType) -> set[str]:
    """Names a module defines or imports that are neither private nor submodules."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def test_walk_finds_every_module():
    # A sanity check of the walk itself, so the parametrized tests below cover everything.
    assert set(PUBLIC_MODULES) <= set(ALL_MODULES)
    assert "dynamorm_async.db._repository" in ALL_MODULES
    assert "dynamorm_async.testing.pytest_plugin" in ALL_MODULES


def test_package_all_is_exactly_its_public_names():
    exported = dynamorm_async.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    # Importing submodules (done by other tests) binds them as attributes: they are
    # left out, as are private names. __version__ is exported on purpose.
    assert set(exported) - {"__version__"} == public_names(dynamorm_async)
    assert "__version__" in exported


def test_package_version_is_a_string():
    assert isinstance(dynamorm_async.__version__, str)
    assert dynamorm_async.__version__.count(".") >= 1


def test_star_import_gives_exactly_all():
    namespace: dict[str, object] = {}
    exec("from dynamorm_async import *", namespace)
    namespace.pop("__builtins__", None)
    assert set(namespace) == set(dynamorm_async.__all__)


@pytest.mark.parametrize("name", dynamorm_async.__all__)
def test_every_exported_name_has_a_docstring(name):
    value = getattr(dynamorm_async, name)
    if name == "__version__":
        assert isinstance(value, str)
        return
    doc = value.__doc__
    assert doc, f"dynamorm_async.{name} has no docstring"
    assert doc.strip()
    # Its own docstring, not one inherited from a base class or a builtin type.
    if inspect.isclass(value):
        assert "__doc__" in vars(value), f"dynamorm_async.{name} inherits its docstring"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_all_names_exist(module_name):
    module = importlib.import_module(module_name)
    assert hasattr(module, "__all__"), f"{module_name} has no __all__"
    exported = list(module.__all__)
    assert exported, f"{module_name}.__all__ is empty"
    assert len(exported) == len(set(exported)), f"duplicates in {module_name}.__all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names missing attributes: {missing}"
    assert module.__doc__, f"{module_name} has no docstring"


def _is_class(obj: object) -> bool:
    """A class, not a type alias (``Callable[...]`` passes isclass on Python 3.10)."""
    return inspect.isclass(obj) and typing.get_origin(obj) is None


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_exports_are_documented(module_name):
    module = importlib.import_module(module_name)
    undocumented = [
        name
        for name in module.__all__
        if (_is_class(getattr(module, name)) or inspect.isfunction(getattr(module, name)))
        and not getattr(module, name).__doc__
    ]
    assert not undocumented, f"{module_name}: no docstring on {undocumented}"


@pytest.mark.parametrize("module_name", ALL_MODULES)
def test_every_module_has_all(module_name):
    module = importlib.import_module(module_name)
    assert hasattr(module, "__all__"), f"{module_name} has no __all__"
    exported = module.__all__
    assert isinstance(exported, (list, tuple))
    assert all(isinstance(name, str) for name in exported)
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names missing attributes: {missing}"


def test_package_exports_are_the_same_objects_as_in_their_modules():
    from dynamorm_async import convert, db, errors, expressions, mapping, query, specs, transport

    sources = [errors, convert, db, expressions, mapping, query, specs, transport]
    for name in dynamorm_async.__all__:
        if name == "__version__":
            continue
        value = getattr(dynamorm_async, name)
        homes = [m for m in sources if getattr(m, name, None) is value]
        assert homes, f"dynamorm_async.{name} is not re-exported from a public module"
        assert any(name in m.__all__ for m in homes), f"{name} is missing from its module's __all__"


def test_every_error_is_exported_and_in_one_tree():
    from dynamorm_async import errors

    error_classes = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, BaseException)
    ]
    assert error_classes
    for cls in error_classes:
        assert issubclass(cls, dynamorm_async.DynamORMError)
        assert cls.__name__ in dynamorm_async.__all__, f"{cls.__name__} is not exported"
