"""The port's conditions, sort conditions and filters as DynamoDB expressions.

Each expression must mean exactly what `Condition.holds_for`, `SortCondition.matches` and the embedded
adapter's filter mean, because the contract suite holds both adapters to one behaviour. Where DynamoDB's
operators differ from Python's (a missing attribute is not NULL; `=` against a missing item is false),
the expression spells the port's meaning out.
"""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

from ...ports.table import Condition, Item, SortCondition, SortOp

# DynamoDB keeps 38 significant digits; boto3.dynamodb.types uses the same context (and importing that
# module would import all of boto3, s3transfer included).
_NUMBERS = Context(Emin=-128, Emax=126, prec=38, traps=[Inexact, Overflow, Rounded, Underflow])


def _serialize(value: Any) -> dict[str, Any]:
    """A port value as an AttributeValue. Items hold str, int, bool and None (`table_rules.check_value`);
    an expression's values are the same kinds."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(_NUMBERS.create_decimal(value))}
    if isinstance(value, str):
        return {"S": value}
    raise TypeError(f"unsupported type for DynamoDB: {type(value).__name__}")


def _deserialize(attribute: dict[str, Any]) -> Any:
    """An AttributeValue as a Python value. Numbers come back as int: the port stores only ints, never
    Decimal. Lists, maps, sets and binaries, which we never write, are read as boto3 reads them."""
    (kind, value), = attribute.items()
    match kind:
        case "S":
            return value
        case "N":
            return _number(value)
        case "BOOL":
            return value
        case "NULL":
            return None
        case "B":
            return bytes(value)
        case "SS":
            return set(value)
        case "NS":
            return {_number(n) for n in value}
        case "BS":
            return {bytes(b) for b in value}
        case "L":
            return [_deserialize(v) for v in value]
        case "M":
            return {k: _deserialize(v) for k, v in value.items()}
    raise TypeError(f"unknown DynamoDB type {kind}")


def _number(text: str) -> int | Decimal:
    number = _NUMBERS.create_decimal(text)
    return int(number) if number == number.to_integral_value() else number


def to_attribute_values(item: Item) -> dict[str, Any]:
    return {name: _serialize(value) for name, value in item.items()}


def from_attribute_values(attributes: dict[str, Any]) -> Item:
    return {name: _deserialize(value) for name, value in attributes.items()}


class Expression:
    """Collects the placeholders (#n0, :v0) of one request's expressions."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        if attribute not in self._names:
            self._names[attribute] = f"#n{len(self._names)}"
        return self._names[attribute]

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = _serialize(value)
        return placeholder

    def parameters(self) -> dict[str, Any]:
        """ExpressionAttributeNames/Values, leaving out the empty ones DynamoDB refuses."""
        parameters: dict[str, Any] = {}
        if self._names:
            parameters["ExpressionAttributeNames"] = {p: a for a, p in self._names.items()}
        if self._values:
            parameters["ExpressionAttributeValues"] = dict(self._values)
        return parameters

    def condition(self, condition: Condition) -> str | None:
        """`condition` as a ConditionExpression; None when it holds for anything."""
        if condition.exists is None and not condition.equals:
            return None  # an unused placeholder would be refused, so name nothing
        pk = self.name("pk")
        if condition.exists is False:
            if condition.equals:
                return f"attribute_exists({pk}) AND attribute_not_exists({pk})"  # holds_for: never
            return f"attribute_not_exists({pk})"
        # An equality needs the item: `attribute_not_exists(#x)` alone would hold for a missing item.
        parts = [f"attribute_exists({pk})"]
        parts += [self.equals(name, value) for name, value in condition.equals]
        return " AND ".join(parts)

    def equals(self, attribute: str, value: Any) -> str:
        name = self.name(attribute)
        if value is None:
            return f"(attribute_not_exists({name}) OR attribute_type({name}, {self.value('NULL')}))"
        if isinstance(value, int):
            # DynamoDB already tells BOOL from N; moto compares the Python values, where True == 1.
            kind = "BOOL" if isinstance(value, bool) else "N"
            return f"({name} = {self.value(value)} AND attribute_type({name}, {self.value(kind)}))"
        return f"{name} = {self.value(value)}"

    def sort(self, attribute: str, sort: SortCondition) -> str:
        name = self.name(attribute)
        match sort.op:
            case SortOp.BETWEEN:
                return f"{name} BETWEEN {self.value(sort.value)} AND {self.value(sort.upper)}"
            case SortOp.BEGINS_WITH:
                return f"begins_with({name}, {self.value(sort.value)})"
            case _:
                return f"{name} {sort.op.value} {self.value(sort.value)}"
