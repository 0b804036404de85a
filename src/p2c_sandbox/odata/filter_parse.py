"""``$filter`` text to tree: a precedence-climbing (Pratt) parser over :func:`filter_tree.scan`'s lexemes.

Binding powers, loosest first: ``or`` 10, ``and`` 20, comparisons/``in``/``has`` 30, ``add``/``sub`` 40,
``mul``/``div``/``divby``/``mod`` 50; ``not`` is a prefix operator binding tighter than all of them (OData
URL conventions §5.1.1). What a dialect refuses (``in`` on F&O, arithmetic on Dataverse, ...) is refused
while parsing, with the service's wording.

    >>> parse_filter("a eq 1 or b eq 2 or c eq 3", "dataverse").op
    <BoolOperator.OR: 'or'>
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from p2c_sandbox.odata import filter_tree as ft
from p2c_sandbox.odata.filter_tree import Dialect, FilterError, Lexeme, scan, syntax_error

__all__ = ["CRM", "CRM_PARAMETERS", "parse_filter", "service_name"]

CRM = "Microsoft.Dynamics.CRM."
_VALUES = ("PropertyName", "PropertyValues")
_ONE_VALUE = ("PropertyName", "PropertyValue")
#: the CRM query functions the sandbox evaluates, with the parameters each one needs
CRM_PARAMETERS: dict[str, tuple[str, ...]] = {
    "In": _VALUES,
    "NotIn": _VALUES,
    "Between": _VALUES,
    "NotBetween": _VALUES,
    "On": _ONE_VALUE,
    "OnOrAfter": _ONE_VALUE,
    "OnOrBefore": _ONE_VALUE,
    "LastXDays": _ONE_VALUE,
    "NextXDays": _ONE_VALUE,
    "Today": ("PropertyName",),
    "Yesterday": ("PropertyName",),
    "Tomorrow": ("PropertyName",),
}
_STRING_TESTS = ("contains", "startswith", "endswith")
_OTHER_FUNCTIONS = frozenset(
    (
        "tolower",
        "toupper",
        "trim",
        "length",
        "indexof",
        "substring",
        "concat",
        "matchespattern",
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "fractionalseconds",
        "totalseconds",
        "ceiling",
        "cast",
        "isof",
        "geo.distance",
        "geo.length",
        "geo.intersects",
        "date",
        "time",
        "totaloffsetminutes",
        "now",
        "mindatetime",
        "maxdatetime",
        "round",
        "floor",
    )
)
_POWER = {"or": 10, "and": 20, **{op.value: 30 for op in ft.CompareOp}, "in": 30, "has": 30}
_POWER |= {"add": 40, "sub": 40, "mul": 50, "div": 50, "divby": 50, "mod": 50}
_CONSTANTS = {"true": True, "false": False, "null": None}
_LITERAL_KINDS = frozenset({"string", "number", "date", "datetime", "guid"})
_DEEPEST = 100
_ALIAS_HOPS = 4


def service_name(dialect: Dialect) -> str:
    return "Dataverse" if dialect is Dialect.DATAVERSE else "Finance and Operations"


def parse_filter(text: str, dialect: Dialect | str, aliases: Mapping[str, str] | None = None) -> ft.Node:
    """The tree of ``$filter`` text; ``aliases`` maps ``@name`` to its text. Raises FilterError."""
    if not text.strip():
        raise FilterError("The $filter expression is empty.")
    reader = _Reader(text, Dialect(dialect), dict(aliases or {}), 0, None)
    return reader.complete(reader.expression)


class _Reader:
    def __init__(
        self, text: str, dialect: Dialect, aliases: dict[str, str], hops: int, lambda_var: str | None
    ) -> None:
        self.text = text
        self.dialect = dialect
        self.aliases = aliases
        self.hops = hops
        self.lexemes = scan(text)
        self.at = 0
        self.depth = 0
        self.lambda_var = lambda_var

    # -- lexeme access --------------------------------------------------------------------------------

    def look(self, ahead: int = 0) -> Lexeme:
        return self.lexemes[min(self.at + ahead, len(self.lexemes) - 1)]

    def advance(self) -> Lexeme:
        lexeme = self.lexemes[self.at]
        self.at = min(self.at + 1, len(self.lexemes) - 1)
        return lexeme

    def is_word(self, word: str, ahead: int = 0) -> bool:
        kind, text, _, _ = self.look(ahead)
        return kind == "word" and text == word

    def fail(self, expected: str, lexeme: Lexeme | None = None) -> FilterError:
        kind, text, start, _ = lexeme or self.look()
        found = "the end of the expression" if kind == "end" else f"'{text}'"
        hint = ""
        if kind == "word" and text != text.lower() and text.lower() in {*_POWER, "not", *_CONSTANTS}:
            hint = f" (operators and keywords are lowercase: '{text.lower()}')"
        return syntax_error(self.text, start, f"expected {expected} but found {found}{hint}")

    def expect(self, punct: str) -> None:
        if self.look()[0] != punct:
            raise self.fail(f"'{punct}'")
        self.advance()

    def refuse(self, start: int, message: str) -> FilterError:
        return FilterError(message, position=start)

    def complete(self, rule: Any) -> Any:
        result = rule()
        if self.look()[0] != "end":
            raise self.fail("an operator or the end of the expression")
        return result

    # -- expressions ----------------------------------------------------------------------------------

    def expression(self, floor: int = 0) -> ft.Node:
        self.depth += 1
        if self.depth > _DEEPEST:
            raise self.refuse(
                self.look()[2], f"The $filter expression is nested too deeply (over {_DEEPEST})."
            )
        left = self.prefix()
        while True:
            kind, word, start, _ = self.look()
            power = _POWER.get(word) if kind == "word" else None
            if power is None or power <= floor:
                break
            self.advance()
            if word in ("and", "or"):
                items = [left, self.expression(power)]
                while self.is_word(word):
                    self.advance()
                    items.append(self.expression(power))
                left = _joined(ft.BoolOperator(word), items)
            elif word == "in":
                left = self.in_list(left, start)
            elif word == "has":
                raise self.refuse(
                    start, f"The 'has' operator is not supported by {service_name(self.dialect)}."
                )
            elif power == 30:
                left = ft.Compare(ft.CompareOp(word), left, self.expression(power))
            else:
                if self.dialect is Dialect.DATAVERSE:
                    raise self.refuse(
                        start, f"The arithmetic operator '{word}' is not supported by Dataverse."
                    )
                left = ft.Arith(ft.ArithOp(word), left, self.expression(power))
        self.depth -= 1
        return left

    def prefix(self) -> ft.Node:
        kind, text, start, value = self.look()
        if kind == "word" and text == "not":
            self.advance()
            self.depth += 1
            if self.depth > _DEEPEST:
                raise self.refuse(start, f"The $filter expression is nested too deeply (over {_DEEPEST}).")
            operand = self.prefix()
            self.depth -= 1
            return ft.Not(operand)
        if kind == "(":
            self.advance()
            inner = self.expression()
            self.expect(")")
            return inner
        if kind in _LITERAL_KINDS:
            self.advance()
            return ft.Literal(value)
        if kind == "enum":
            self.advance()
            if self.dialect is Dialect.DATAVERSE:
                raise self.refuse(
                    start,
                    f"The enum literal {text} is not supported by Dataverse; compare choice columns with integers.",
                )
            return ft.EnumLiteral(value[0], value[1])
        if kind == "alias":
            self.advance()
            return self.alias(text, start, lambda r: r.expression())
        if kind == "word":
            if text in _CONSTANTS:
                self.advance()
                return ft.Literal(_CONSTANTS[text])
            if self.look(1)[0] == "(":
                return self.function()
            return self.path()
        raise self.fail("a property, a literal or '('")

    def alias(self, name: str, start: int, rule: Any) -> Any:
        if name not in self.aliases:
            raise self.refuse(start, f"The parameter alias '{name}' is not defined.")
        if self.hops >= _ALIAS_HOPS:
            raise self.refuse(start, f"The parameter alias '{name}' refers to aliases too deeply.")
        inner = _Reader(self.aliases[name], self.dialect, self.aliases, self.hops + 1, self.lambda_var)
        return inner.complete(lambda: rule(inner))

    def path(self) -> ft.Node:
        segments: list[str] = []
        while True:
            kind, text, start, _ = self.look()
            if kind != "word":
                raise self.fail("a property name")
            if segments and text in ("any", "all") and self.look(1)[0] == "(":
                return self.lambda_(tuple(segments), ft.LambdaKind(text), start)
            self.advance()
            segments.append(text)
            if self.look()[0] != "/":
                break
            self.advance()
        var = self.lambda_var
        if var is not None and (segments[0] != var or len(segments) == 1):
            raise self.refuse(
                start, f"In a lambda body only properties of '{var}' can be used, not '{'/'.join(segments)}'."
            )
        return ft.Property(tuple(segments))

    def lambda_(self, path: tuple[str, ...], kind: ft.LambdaKind, start: int) -> ft.Node:
        if self.dialect is Dialect.FNO:
            raise self.refuse(
                start, f"The lambda operator '{kind}' is not supported by Finance and Operations."
            )
        self.advance()
        self.expect("(")
        if self.look()[0] == ")":
            if kind is ft.LambdaKind.ALL:
                raise self.refuse(start, "'all' needs a lambda expression: all(x: <condition>).")
            self.advance()
            return ft.Lambda(path, kind, "", None)
        var_kind, var, _, _ = self.advance()
        if var_kind != "word":
            raise self.fail("a lambda variable name")
        self.expect(":")
        outer, self.lambda_var = self.lambda_var, var
        body = self.expression()
        self.lambda_var = outer
        self.expect(")")
        return ft.Lambda(path, kind, var, body)

    def function(self) -> ft.Node:
        _, name, start, _ = self.advance()
        service = service_name(self.dialect)
        if name.startswith(CRM):
            short = name[len(CRM) :]
            if self.dialect is Dialect.FNO:
                raise self.refuse(start, f"The function '{name}' is not supported by {service}.")
            if short not in CRM_PARAMETERS:
                raise self.refuse(start, f"The query function '{name}' is not supported by the sandbox.")
            params = self.crm_arguments()
            missing = [p for p in CRM_PARAMETERS[short] if p not in params]
            if missing:
                raise self.refuse(
                    start, f"The function '{name}' needs the parameter(s) {', '.join(missing)}."
                )
            return ft.CrmCall(short, params)
        if name in _STRING_TESTS:
            if self.dialect is Dialect.FNO:
                raise self.refuse(
                    start,
                    f"The function '{name}' is not supported by {service}; "
                    "use a wildcard in an 'eq' comparison instead ('*text*').",
                )
            self.expect("(")
            args = [self.expression()]
            while self.look()[0] == ",":
                self.advance()
                args.append(self.expression())
            self.expect(")")
            if len(args) != 2:
                raise self.refuse(start, f"The function '{name}' takes 2 arguments, not {len(args)}.")
            return ft.Call(name, tuple(args))
        if name in _OTHER_FUNCTIONS:
            raise self.refuse(start, f"The function '{name}' is not supported by {service}.")
        raise self.refuse(start, f"Unknown function '{name}'.")

    def crm_arguments(self) -> dict[str, object]:
        self.expect("(")
        params: dict[str, object] = {}
        while self.look()[0] != ")":
            if params:
                self.expect(",")
            kind, name, _, _ = self.advance()
            if kind != "word":
                raise self.fail("a parameter name")
            self.expect("=")
            params[name] = self.crm_value()
        self.advance()
        return params

    def crm_value(self) -> object:
        kind, text, start, _ = self.look()
        if kind == "[":
            self.advance()
            items: list[object] = []
            while self.look()[0] != "]":
                if items:
                    self.expect(",")
                items.append(self.crm_scalar())
            self.advance()
            return tuple(items)
        if kind == "alias":
            self.advance()
            return self.alias(text, start, lambda r: r.crm_value())
        return self.crm_scalar()

    def crm_scalar(self) -> object:
        kind, text, _, value = self.look()
        if kind in _LITERAL_KINDS or kind == "json":
            self.advance()
            return value
        if kind == "word" and text in _CONSTANTS:
            self.advance()
            return _CONSTANTS[text]
        raise self.fail("a parameter value")

    def in_list(self, left: ft.Node, start: int) -> ft.Node:
        if self.dialect is Dialect.FNO:
            raise self.refuse(start, "The 'in' operator is not supported by Finance and Operations.")
        self.expect("(")
        values: list[ft.Node] = []
        while self.look()[0] != ")":
            if values:
                self.expect(",")
            values.append(self.prefix())
        self.advance()
        if not values:
            raise self.refuse(start, "The 'in' operator needs at least one value.")
        return ft.InList(left, tuple(values))


def _joined(op: ft.BoolOperator, items: list[ft.Node]) -> ft.Node:
    flat: list[ft.Node] = []
    for item in items:
        flat.extend(item.operands if isinstance(item, ft.BoolOp) and item.op is op else (item,))
    return ft.BoolOp(op, tuple(flat))
