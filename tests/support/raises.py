"""Which domain errors a workflow can raise, read from its source: every `raise` of a DomainError in it
and in every domain function, method or constructor it calls, transitively, plus what the ports it calls
declare with `@raises` (the unit of work, the template engine). A method called on a value (`quote.add(…)`)
counts every domain method of that name: the answer may be a little too wide, never too narrow."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import textwrap
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import domain
from domain.errors import DomainError


@functools.cache
def _domain_methods() -> dict[str, list[Callable[..., Any]]]:
    """Every function defined on a class of domain/, by name (Protocol ports: their declared raises)."""
    found: dict[str, list[Callable[..., Any]]] = defaultdict(list)
    for info in pkgutil.walk_packages(domain.__path__, "domain."):
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if not (isinstance(cls, type) and cls.__module__ == module.__name__):
                continue
            for name, member in vars(cls).items():
                function = getattr(member, "__func__", member)
                if isinstance(member, property):
                    function = member.fget
                if inspect.isfunction(function):
                    found[name].append(function)
    return found


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return namespace.get(
            node.id,
            getattr(__builtins__, node.id, None) if not isinstance(__builtins__, dict) else __builtins__.get(node.id),
        )
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, namespace)
        return None if owner is None else getattr(owner, node.attr, None)
    return None


def _is_domain(obj: Any) -> bool:
    return getattr(obj, "__module__", "").startswith("domain")


def raised_by(function: Callable[..., Any]) -> frozenset[type[DomainError]]:
    return frozenset(_walk(function, set()))


def _walk(function: Callable[..., Any], seen: set[Any]) -> set[type[DomainError]]:
    function = inspect.unwrap(getattr(function, "__func__", function))
    if function in seen:
        return set()
    seen.add(function)
    found: set[type[DomainError]] = set(getattr(function, "__raises__", ()))
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return found
    tree = ast.parse(source)
    namespace = {**function.__globals__, **_local_imports(tree)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = _resolve(node.exc.func if isinstance(node.exc, ast.Call) else node.exc, namespace)
            if isinstance(raised, type) and issubclass(raised, DomainError):
                found.add(raised)
        elif isinstance(node, ast.Call):
            found |= _called(node.func, namespace, seen)
    return found


def _local_imports(tree: ast.AST) -> dict[str, Any]:
    """Names a function imports in its own body (`from domain.errors import Locked` inside it)."""
    names: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = importlib.import_module(node.module)
            for alias in node.names:
                names[alias.asname or alias.name] = getattr(module, alias.name, None)
    return names


def _called(target: ast.expr, namespace: dict[str, Any], seen: set[Any]) -> set[type[DomainError]]:
    called = _resolve(target, namespace)
    if isinstance(called, type):
        if not _is_domain(called):
            return set()
        found: set[type[DomainError]] = set()
        for cls in called.__mro__:
            for name in ("__init__", "__post_init__", "__new__"):
                member = vars(cls).get(name)
                if inspect.isfunction(member) and _is_domain(member):
                    found |= _walk(member, seen)
        return found
    if called is not None:
        function = getattr(called, "__func__", called)
        return _walk(function, seen) if inspect.isfunction(function) and _is_domain(function) else set()
    if isinstance(target, ast.Attribute):  # a method of a value whose type the source does not say
        found = set()
        for method in _domain_methods().get(target.attr, []):
            found |= _walk(method, seen)
        return found
    return set()
