"""Price formulas: arithmetic over a deal's number fields ("width * height / 1000000 *
4500"), read with Python's own parser and worked out by a small evaluator of our own —
numbers, + − × ÷, brackets, min, max, round, ceil — so a formula can do nothing else."""

import ast
import math
from decimal import Decimal, DivisionByZero, DivisionUndefined, InvalidOperation

from django.utils.translation import gettext as _

FUNCTIONS = {
    "min": min,
    "max": max,
    "round": lambda value, places=0: round(value, int(places)),
    "ceil": lambda value: Decimal(math.ceil(value)),
}
OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


class FormulaError(ValueError):
    """What is wrong with a formula or its values, in the user's words."""


def names_in(formula: str) -> set[str]:
    """The field names a formula uses; FormulaError when it does not read or uses anything
    but numbers, the four operations, brackets and the allowed functions."""
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as error:
        raise FormulaError(
            _("The formula does not read at position %(position)s.")
            % {"position": error.offset or 1}
        ) from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id not in FUNCTIONS:
                names.add(node.id)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise FormulaError(_("A formula may call only min, max, round and ceil."))
            if node.keywords:
                raise FormulaError(_("A formula may call only min, max, round and ceil."))
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise FormulaError(_("A formula holds numbers and field names only."))
        elif not isinstance(
            node, ast.Expression | ast.BinOp | ast.UnaryOp | ast.Load | ast.USub | ast.UAdd
            | ast.Add | ast.Sub | ast.Mult | ast.Div
        ):  # fmt: skip
            raise FormulaError(_("A formula may use + − × ÷ and brackets only."))
    return names


def evaluate(formula: str, values: dict[str, Decimal]) -> Decimal:
    """The formula worked out with `values`; FormulaError names a missing value or a
    division by zero."""
    names_in(formula)
    tree = ast.parse(formula.strip(), mode="eval")

    def value(node) -> Decimal:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant):
            return Decimal(str(node.value))
        if isinstance(node, ast.Name):
            if values.get(node.id) is None:
                raise FormulaError(_("The deal has no “%(field)s” yet.") % {"field": node.id})
            return Decimal(str(values[node.id]))
        if isinstance(node, ast.UnaryOp):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.BinOp):
            return OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Call):
            return Decimal(FUNCTIONS[node.func.id](*[value(arg) for arg in node.args]))
        raise FormulaError(_("A formula may use + − × ÷ and brackets only."))

    try:
        return value(tree)
    except (DivisionByZero, DivisionUndefined, ZeroDivisionError):
        raise FormulaError(_("The formula divides by zero.")) from None
    except (InvalidOperation, ArithmeticError, OverflowError):
        raise FormulaError(_("The formula's result is too large.")) from None
    except TypeError:
        raise FormulaError(_("A function in the formula has the wrong number of values.")) from None
