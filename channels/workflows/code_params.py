"""Factors whose parameters HyperStream stored as Python code: bindings, consent, and which tool runs them.

HyperStream keeps a function-valued tool parameter (``sliding_apply(func=lambda ...)``, ``aggregate(func=...)``)
in the workflow document as marshalled code. Nothing here decodes or runs that code to open, show or plan a
workflow. A factor with such a parameter runs in one of two ways, chosen per parameter:

* **bound** — the user binds the parameter to a named function: one of the registry's (``mean``, ``max``, …,
  :mod:`channels.tools.functions`) or a function in a Python file of theirs (``/path/file.py:name``). Bindings
  are the app's own records (the store's ``hsgui_code_bindings`` documents), never written into HyperStream's
  documents, and are used by every later run. A binding remembers the content hash of the code it replaces;
  when the stored code changes, the binding no longer applies and says so.
* **stored code, with consent** — the code runs as it is, only when it was marshalled by the running Python
  version and the caller allowed it (``allow_stored_code=True`` or a set of allowed content hashes). The app
  asks in words per database and hash (:class:`channels.workflows.stored_code.CodeConsents`) and never runs it
  in its GUI process.

:func:`resolve_tool` picks the tool a factor's stored name, version and parameters describe: among every tool
folder's versions of that name, one whose ``__init__`` takes exactly the stored parameters (a built-in
``aggregate(func, include_empty)`` does not take HyperStream's ``aggregate(func, aggregation_meta_data)``),
preferring the stored version, then the folder order (built-in first).
"""
from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import ChannelsError, ToolNotFoundError
from ..utils import utcnow
from .definitions import FactorDefinition, WorkflowDefinition

BINDINGS_COLLECTION = "hsgui_code_bindings"


class CodeParameterError(ChannelsError):
    """A function binding that cannot be made or used (unknown function, missing file, changed code)."""


def stored_value_hash(value) -> str:
    """The content hash of a stored code value (:func:`.stored_code.content_hash`): reads nothing inside it."""
    from .stored_code import content_hash
    return content_hash(value)


def database_identity(manager) -> str:
    """Which database a consent is for: the embedded store's real path, or MongoDB's host and database as
    shown (never a password)."""
    store = getattr(manager, "store", None)
    path = getattr(store, "path", None)
    if path:
        return "sqlite:" + os.path.realpath(path)
    return str(getattr(store, "description", None) or type(store).__name__)


# -- bindings ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Binding:
    workflow_id: str
    factor: int            # index of the factor in the stored workflow
    parameter: str
    function: str          # a registry name ("mean") or "<file.py>:<function name>"
    sha256: str | None     # content hash of the stored code it replaces
    bound_at: datetime | None = None

    @property
    def is_registry(self) -> bool:
        return ":" not in self.function or not self.function.rsplit(":", 1)[0].endswith(".py")

    def to_document(self) -> dict:
        return {"workflow_id": self.workflow_id, "factor": self.factor, "parameter": self.parameter,
                "function": self.function, "sha256": self.sha256, "bound_at": self.bound_at}


def check_function(function: str) -> str:
    """``function`` if it names a registry function or a function in an existing ``.py`` file; a clear error
    otherwise (the file is only checked to exist here: it is imported when a run uses it)."""
    from ..tools.functions import FUNCTIONS, function_names
    if not isinstance(function, str) or not function.strip():
        raise CodeParameterError("a binding needs a function: a registry name (e.g. 'mean') or 'file.py:name'")
    function = function.strip()
    path, sep, name = function.rpartition(":")
    if sep and path.endswith(".py"):
        if not name.isidentifier():
            raise CodeParameterError(f"binding {function!r}: {name!r} is not a function name")
        if not os.path.isfile(path):
            raise CodeParameterError(f"binding {function!r}: no file {path}")
        return function
    if function not in FUNCTIONS:
        raise CodeParameterError(f"binding: unknown function {function!r}; registry functions: "
                                 f"{', '.join(function_names())}; or give a plugin function as 'file.py:name'")
    return function


class CodeBindings:
    """The bindings of one store (its ``hsgui_code_bindings`` documents), read once and kept current."""

    def __init__(self, store=None, bindings=()):
        self.store = store
        self._by_key = {}
        docs = []
        if store is not None:
            try:
                docs = store.list_documents(BINDINGS_COLLECTION)
            except NotImplementedError:
                docs = []
        for d in docs:
            try:
                b = Binding(str(d["workflow_id"]), int(d["factor"]), str(d["parameter"]), str(d["function"]),
                            d.get("sha256"), d.get("bound_at"))
            except (KeyError, TypeError, ValueError):
                continue  # not ours to judge: a foreign document in our collection is ignored
            self._by_key[(b.workflow_id, b.factor, b.parameter)] = b
        for b in bindings:
            self._by_key[(b.workflow_id, b.factor, b.parameter)] = b

    def get(self, workflow_id: str, factor: int, parameter: str) -> Binding | None:
        return self._by_key.get((workflow_id, factor, parameter))

    def list(self, workflow_id: str | None = None) -> list[Binding]:
        return [b for b in self._by_key.values() if workflow_id is None or b.workflow_id == workflow_id]

    def bind(self, workflow: WorkflowDefinition, factor: int, parameter: str, function: str) -> Binding:
        """Bind ``parameter`` of the ``factor``-th factor of ``workflow`` to ``function`` (kept in the store)."""
        f = _factor(workflow, factor)
        if parameter not in f.tool.code_parameters:
            raise CodeParameterError(f"workflow {workflow.workflow_id!r}, factor {factor} ({f.tool.name}): "
                                     f"{parameter!r} is not a parameter holding stored code (those are: "
                                     f"{', '.join(f.tool.code_parameters) or 'none'})")
        b = Binding(workflow.workflow_id, factor, parameter, check_function(function),
                    stored_value_hash(f.tool.code_values.get(parameter)), utcnow())
        if self.store is not None:
            match = {"workflow_id": b.workflow_id, "factor": b.factor, "parameter": b.parameter}
            self.store.insert_documents(BINDINGS_COLLECTION, [b.to_document()])
            # the new document is written before the old ones go: a failure leaves a binding, never none
            for d in self.store.list_documents(BINDINGS_COLLECTION):
                if all(d.get(k) == v for k, v in match.items()) and d.get("bound_at") != b.bound_at:
                    self.store.delete_documents(BINDINGS_COLLECTION, {**match, "bound_at": d.get("bound_at")})
        self._by_key[(b.workflow_id, b.factor, b.parameter)] = b
        return b

    def unbind(self, workflow_id: str, factor: int, parameter: str) -> bool:
        b = self._by_key.pop((workflow_id, factor, parameter), None)
        if b is not None and self.store is not None:
            self.store.delete_documents(BINDINGS_COLLECTION, {"workflow_id": workflow_id, "factor": factor,
                                                              "parameter": parameter})
        return b is not None


def _factor(workflow, index) -> FactorDefinition:
    if not isinstance(index, int) or not 0 <= index < len(workflow.factors):
        raise CodeParameterError(f"workflow {workflow.workflow_id!r} has no factor {index!r} "
                                 f"(it has {len(workflow.factors)})")
    return workflow.factors[index]


# -- functions handed to tools ---------------------------------------------------------------------------------
class NamedFunction:
    """A registry or plugin function handed to a HyperStream tool in place of its stored code.

    HyperStream's tools call their ``func`` with the window's instances (``sliding_apply``: an iterator of
    ``(timestamp, value)``) or with plain values (``aggregate``). A registry function takes values, so
    instances are turned into their values first; a plugin function is called as it is (it was written for
    HyperStream's convention)."""

    def __init__(self, name: str, func, adapt: bool):
        self.name, self.func, self.adapt = name, func, adapt
        self.__qualname__ = self.__name__ = f"{name} (bound)"

    def __call__(self, data):
        if not self.adapt:
            return self.func(data)
        items = list(data)
        if items and all(isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], datetime) for i in items):
            items = [v for _t, v in items]
        return self.func(items)

    def __repr__(self):
        return f"<function {self.__qualname__}>"


def load_bound_function(function: str) -> NamedFunction:
    from ..tools.functions import FUNCTIONS
    path, sep, name = function.rpartition(":")
    if sep and path.endswith(".py"):
        from ..module_channel import import_module_file
        from ..plugin_names import plugin_names
        try:
            module = import_module_file(path, plugin_names, (os.path.dirname(path),))
        except Exception as e:  # noqa: BLE001 - a user's file may fail in any way; say which and how
            raise CodeParameterError(f"binding {function!r}: {path} could not be imported: "
                                     f"{type(e).__name__}: {e}") from None
        fn = getattr(module, name, None)
        if not callable(fn):
            raise CodeParameterError(f"binding {function!r}: {path} defines no function {name!r}")
        return NamedFunction(function, fn, adapt=False)
    check_function(function)
    return NamedFunction(function, FUNCTIONS[function].func, adapt=True)


# -- which tool ----------------------------------------------------------------------------------------------
@dataclass
class ToolChoice:
    channel: object          # the ToolChannel
    version: str
    path: str
    cls: type
    takes_names: set = field(default_factory=set)   # parameters the tool takes as function *names*

    @property
    def where(self) -> str:
        return f"{self.channel.channel_id} v{self.version} ({self.path})"


def _accepts(cls, keys) -> tuple[bool, str]:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return True, ""
    params = list(sig.parameters.values())[1:]
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return True, ""
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    unknown = sorted(set(keys) - names)
    missing = sorted(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                     and p.default is p.empty and p.name not in keys)
    if unknown or missing:
        parts = ([f"does not take {', '.join(unknown)}"] if unknown else []) + (
            [f"needs {', '.join(missing)}"] if missing else [])
        return False, f"takes ({', '.join(sorted(names))}): {'; '.join(parts)}"
    return True, ""


def resolve_tool(manager, factor: FactorDefinition, callables=()) -> ToolChoice:
    """The tool version that runs ``factor``: its stored name, a signature that takes the stored parameters
    (plain and code), the stored version if present, then the first tool folder. ``callables``: the code
    parameters that will be handed over as functions (a tool that takes only function *names* there cannot
    run them). Raises ToolNotFoundError naming every candidate and why it does not fit."""
    from ..tools.params import parameter_specs
    spec = factor.tool
    keys = set(spec.parameters) | set(spec.code_parameters)
    fits, refused = [], []
    for channel in manager.tool_channels:
        for tv in channel.list_tools().get(spec.name, []):
            where = f"{channel.channel_id} v{tv.version} ({tv.path})"
            try:
                cls = channel.get_tool_class(spec.name, tv.version)
            except Exception as e:  # noqa: BLE001 - a tool file that fails to import is one refused candidate
                refused.append(f"{where}: does not load ({type(e).__name__}: {e})")
                continue
            ok, why = _accepts(cls, keys)
            if not ok:
                refused.append(f"{where} {why}")
                continue
            names = {s.name for s in parameter_specs(cls) if s.kind == "function" and s.annotation is not None}
            wrong = sorted(names & set(callables))
            if wrong:
                refused.append(f"{where} takes {', '.join(wrong)} as a function name only, not as code")
                continue
            fits.append(ToolChoice(channel, str(tv.version), tv.path, cls, names))
    if not fits:
        detail = "; ".join(refused) if refused else "no tool folder has it"
        raise ToolNotFoundError(spec.name, spec.version, detail=f"no version takes the stored parameters "
                                f"({', '.join(sorted(keys)) or 'none'}): {detail}")
    same = [c for c in fits if spec.version and c.version == spec.version]
    return (same or fits)[0]


# -- can this factor run? ------------------------------------------------------------------------------------
@dataclass
class FactorCheck:
    """What running one factor takes: how each code parameter is supplied, which tool runs, or why not."""

    index: int
    factor: FactorDefinition
    supply: dict = field(default_factory=dict)     # parameter -> ("bound", Binding) | ("stored", StoredCode)
    tool: ToolChoice | None = None
    problems: list = field(default_factory=list)   # why it cannot run (empty: it can)

    @property
    def runnable(self) -> bool:
        return not self.problems

    @property
    def label(self) -> str:
        return f"factor {self.index} ({self.factor.tool.name})"


def check_factor(manager, workflow: WorkflowDefinition, index: int, bindings: CodeBindings | None = None,
                 allow_stored_code=False) -> FactorCheck:
    """How factor ``index`` of ``workflow`` would run; never runs or unmarshals stored code (with
    ``allow_stored_code`` the code's Python version is read from its bytes, without loading it)."""
    f = workflow.factors[index]
    check = FactorCheck(index, f)
    if f.tool_instance is not None:
        return check
    where = f"workflow {workflow.workflow_id!r}, factor {index} ({f.tool.name})"
    callables = set()
    for key in f.tool.code_parameters:
        value = f.tool.code_values.get(key)
        digest = stored_value_hash(value)
        b = bindings.get(workflow.workflow_id, index, key) if bindings is not None else None
        if b is not None and b.sha256 not in (None, digest):
            check.problems.append(f"{where}: parameter {key!r} was bound to {b.function} for other code "
                                  f"(sha256 {b.sha256[:12]}); the stored code is now {digest[:12]}: bind it again")
            continue
        if b is not None:
            check.supply[key] = ("bound", b)
            if not b.is_registry:
                callables.add(key)
            continue
        allowed = allow_stored_code is True or (not isinstance(allow_stored_code, bool)
                                                and digest in set(allow_stored_code or ()))
        if not allowed:
            check.problems.append(f"{where}: parameter {key!r} holds Python code stored in the database "
                                  f"(sha256 {digest[:12]}); bind it to a named function, or allow that code "
                                  f"to run")
            continue
        from .stored_code import StoredCodeError, read_stored_code
        try:
            stored = read_stored_code(value)
        except StoredCodeError as e:
            check.problems.append(f"{where}: parameter {key!r}: {e}")
            continue
        if not stored.runnable_here:
            made_by = ".".join(map(str, stored.python_version)) if stored.python_version else "an unknown Python"
            check.problems.append(f"{where}: parameter {key!r} holds code marshalled by Python {made_by}, which "
                                  f"cannot run on this Python {_this_python()}: bind it to a named function")
            continue
        check.supply[key] = ("stored", stored)
        callables.add(key)
    try:
        check.tool = resolve_tool(manager, f, callables)
    except ChannelsError as e:
        check.problems.append(f"{where}: {e}")
    return check


def _this_python() -> str:
    import sys
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def tool_for(check: FactorCheck):
    """A configured instance of the checked factor's tool, code parameters supplied (runs nothing yet)."""
    from ..tools.loading import load_tool
    from ..tools.params import coerce_value, parameter_specs
    if check.factor.tool_instance is not None:
        return check.factor.tool_instance
    if not check.runnable:
        raise ChannelsError("; ".join(check.problems))
    specs = {s.name: s for s in parameter_specs(check.tool.cls)}
    name = check.factor.tool.name
    params = {k: coerce_value(specs[k], v, name) if k in specs else v for k, v in check.factor.tool.parameters.items()}
    for key, (how, what) in check.supply.items():
        if how == "bound":
            params[key] = what.function if (what.is_registry and key in check.tool.takes_names) else \
                load_bound_function(what.function)
        else:
            from .stored_code import load_function
            params[key] = load_function(what)
    return load_tool(check.tool.channel, check.factor.tool.name, params, check.tool.version, coerce=False)


__all__ = ["Binding", "CodeBindings", "CodeParameterError", "FactorCheck", "NamedFunction", "ToolChoice",
           "BINDINGS_COLLECTION", "check_factor", "check_function", "database_identity", "load_bound_function", "resolve_tool",
           "stored_value_hash", "tool_for"]
