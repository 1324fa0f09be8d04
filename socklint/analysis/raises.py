"""The raise oracle: what a call or statement can raise, and which handler catches it.

One implementation that the interpreter asks at every raise point and at every ``except``.
Exception classes are the strings of ``frames`` (``EXC_OS``, ``EXC_OSCFG``, ``EXC_ANY``,
``EXC_OTHER``, ``EXC_NONOS``) or the qualified name of an exception class.
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from socklint.analysis.context import ModuleContext
from socklint.analysis.cstutil import FunctionBindings
from socklint.analysis.facts import cst_name as _name_of
from socklint.analysis.frames import EXC_ANY, EXC_CANCEL, EXC_NONOS, EXC_OS, EXC_OSCFG, EXC_OTHER

# How a handler answers for one exception class.
Catch = str  # "yes" | "no" | "maybe"


# Displays and comprehensions that build a fresh container.
_CONTAINERS = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)

class RaiseOracle:
    def __init__(self, ctx: ModuleContext, bindings: FunctionBindings) -> None:
        self.ctx = ctx
        self.bindings = bindings

    def raised_class(self, exc: cst.BaseExpression, caught: Optional[str]) -> str:
        """The class ``raise exc`` raises; ``caught`` is what the innermost handler caught."""
        node = exc.func if isinstance(exc, cst.Call) else exc
        name = _name_of(node)
        if not name:
            return EXC_ANY
        q = self.ctx.imports.qualify(name)
        b = self.ctx.model.exception_class(q)
        if b is not None:
            return EXC_OS if issubclass(b, OSError) else b.__name__
        if q in self.ctx.model.OSERROR_ALIASES:
            return EXC_OS
        # A name bound in a handler (`except E as e: ... raise e`) re-raises what was caught.
        if caught is not None and isinstance(node, cst.Name):
            return caught
        return q

    def is_str(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """``node`` is a str (or bytes) built here: a literal, ``"..." % x``, a string method
        of one (``"...".format(x)``), or a name bound once to such a value."""
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return True
        if depth > 3:
            return False
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            return isinstance(node.left, (cst.SimpleString, cst.ConcatenatedString))
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            # `self.address_str + "\r\n"`: adding to a string literal makes a string.
            return self.is_str(node.left, depth + 1) or self.is_str(node.right, depth + 1)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            return node.func.attr.value in self.ctx.model.STR_BUILDING_METHODS and self.is_str(node.func.value, depth + 1)
        if isinstance(node, cst.Name):
            values = self.bindings.values(node.value)
            return bool(values) and all(v is not None and self.is_str(v, depth + 1) for v in values or ())
        return False

    def container_method_cannot_fail(self, f: cst.Attribute) -> bool:
        """``rtts.append(x)`` where every value the name is bound to in the function is a list,
        dict or set display or comprehension (``container-methods`` rows)."""
        if f.attr.value not in self.ctx.model.CONTAINER_METHODS or not isinstance(f.value, cst.Name):
            return False
        values = self.bindings.values(f.value.value)
        return bool(values) and all(isinstance(v, _CONTAINERS) for v in values or ())

    def str_method_cannot_fail(self, call: cst.Call, f: cst.Attribute) -> bool:
        method = f.attr.value
        if method in ("decode", "encode"):
            # `data.decode("ascii", "ignore")`: an error handler that drops or replaces what
            # does not fit cannot fail, whatever the data.
            errors = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
            for a in call.args:
                if a.keyword is not None and a.keyword.value == "errors":
                    errors = a.value
            if isinstance(errors, cst.SimpleString) and errors.evaluated_value in self.ctx.model.LENIENT_CODEC_ERRORS:
                return True
        if method == "encode":
            # Only the UTF-8 default cannot fail (`.encode("ascii")` can, on other text).
            if call.args and not (
                isinstance(call.args[0].value, cst.SimpleString)
                and call.args[0].value.evaluated_value in ("utf-8", "utf8", "UTF-8")
            ):
                return False
        elif method not in self.ctx.model.STR_BUILDING_METHODS:
            return False
        return self.is_str(f.value)

    def is_noreturn(self, call: cst.Call) -> bool:
        name = _name_of(call.func)
        if not name:
            return False
        if self.ctx.imports.qualify(name) in self.ctx.model.NORETURN or name in self.ctx.model.NORETURN:
            return True
        f = call.func
        if isinstance(f, cst.Attribute) and f.attr.value in ("error", "exit") and isinstance(f.value, cst.Name):
            # `p.error("Must specify a port")` where `p = argparse.ArgumentParser()`: prints the
            # usage and exits (SystemExit); the path ends.
            value = self.bindings.single_value(f.value.value)
            callee = _name_of(value.func) if isinstance(value, cst.Call) else None
            return callee is not None and self.ctx.imports.qualify(callee) in self.ctx.model.ARG_PARSERS
        return False

    def always_raises(self, call: cst.Call) -> bool:
        name = _name_of(call.func)
        if name is None:
            return False
        last = name.rsplit(".", 1)[-1]
        local = name == last or name.startswith(("self.", "cls."))
        return local and last in self.ctx.summaries.always_raise

    def is_test_failure(self, call: cst.Call) -> bool:
        f = call.func
        return (
            isinstance(f, cst.Attribute)
            and f.attr.value in self.ctx.model.TEST_FAILURE_METHODS
            and isinstance(f.value, cst.Name)
            and f.value.value == "self"
        )

    def catches(self, h: Union[cst.ExceptHandler, cst.ExceptStarHandler], cls: str) -> Catch:
        if h.type is None:
            return "yes"
        exprs: list[cst.BaseExpression] = []
        exprs = [e.value for e in h.type.elements] if isinstance(h.type, cst.Tuple) else [h.type]
        builtins_: list[type[BaseException]] = []
        names: list[str] = []
        unknown = False
        for e in exprs:
            n = _name_of(e)
            if n is None and isinstance(e, cst.Call) and not e.args:
                # `except anyio.get_cancelled_exc_class():` names a class by a call (an
                # `exception-names` row with the call's name).
                n = _name_of(e.func)
            if not n:
                unknown = True
                continue
            q = self.ctx.imports.qualify(n)
            names.append(q)
            b = self.ctx.model.exception_class(q)
            if b is None:
                unknown = True
            else:
                builtins_.append(b)
        if cls == EXC_CANCEL:
            # Only a handler for BaseException or for the cancellation itself sees it: an
            # unknown name is a project's exception, an Exception.
            if any(n in self.ctx.model.CANCELLATION_EXCEPTIONS or n == "BaseException" for n in names):
                return "yes"
            return "no"
        if any(b in (BaseException, Exception) for b in builtins_):
            return "yes"
        if cls == EXC_OS:
            if any(issubclass(OSError, b) or issubclass(b, OSError) for b in builtins_):
                return "yes"
            return "yes" if unknown else "no"
        if cls == EXC_OSCFG:
            if any(issubclass(OSError, b) for b in builtins_):
                return "yes"
            return "yes" if unknown else "no"
        if cls == EXC_NONOS:
            if builtins_ and not unknown and all(issubclass(b, OSError) for b in builtins_):
                # `except OSError:` around exabgp's `md5(sock, ...)`, which turns every OSError
                # into MD5Error: this handler cannot see it.
                return "no"
            return "maybe"
        if cls in (EXC_ANY, EXC_OTHER):
            if builtins_ and not unknown and all(issubclass(b, ImportError) for b in builtins_):
                # `except ImportError:` is there for an `import` in the `try` (pg8000's `import
                # ssl`), not for what calls raise.
                return "no"
            if builtins_ and not unknown and all(not issubclass(b, Exception) for b in builtins_):
                # `except KeyboardInterrupt:` / `SystemExit` / `GeneratorExit`: not what a
                # call raises on its own.
                return "no"
            if cls == EXC_OTHER and all(not issubclass(b, Exception) or issubclass(b, OSError) for b in builtins_):
                # `except socket.gaierror:` / `except OSError:` / `except ACCEPT_EXCEPTIONS:` (an
                # unknown name is taken for socket errors) around code that also calls `log()`
                # or `event.wait()`: a call that touches no socket is not taken to raise them. Like SKL106 (off by default), a handler only such a call could
                # reach is too weak a witness; the leak it would show stays an SKL106 exit.
                return "no"
            return "maybe"
        raised = self.ctx.model.exception_class(cls)
        if raised is not None:
            if any(issubclass(raised, b) for b in builtins_):
                return "yes"
            return "maybe" if unknown else "no"
        if cls in names:
            return "yes"
        return "maybe" if unknown else "no"

    def names_of_args(self, call: cst.Call) -> list[str]:
        out = []
        for a in call.args:
            n = _name_of(a.value)
            out.append(self.ctx.imports.qualify(n) if n else "?")
        return out

    def suppressed(self, cls: str, names: list[str]) -> bool:
        for n in names:
            b = self.ctx.model.exception_class(n)
            if b in (BaseException, Exception):
                return True
            if cls == EXC_OS and b is not None and (issubclass(OSError, b) or issubclass(b, OSError)):
                return True
            if cls == EXC_OSCFG and b is not None and issubclass(OSError, b):
                return True
            if cls == n:
                return True
        return False
