"""Our DynamoDB AttributeValue codec reads and writes what boto3's TypeSerializer/TypeDeserializer do, for
every value an item may hold (str, int, bool, None; ints below DynamoDB's 38 digits)."""

from __future__ import annotations

from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from caseline.adapters.aws.dynamodb_expressions import from_attribute_values, to_attribute_values
from caseline.adapters.table_rules import MAX_NUMBER
from hypothesis import given
from hypothesis import strategies as st

values = st.none() | st.booleans() | st.text() | st.integers(min_value=-MAX_NUMBER + 1, max_value=MAX_NUMBER - 1)


@given(st.dictionaries(st.text(min_size=1), values))
def test_items_encode_and_decode_as_boto3_does(item: dict) -> None:
    encoded = to_attribute_values(item)
    assert encoded == {k: TypeSerializer().serialize(v) for k, v in item.items()}
    assert from_attribute_values(encoded) == item
    assert all(type(from_attribute_values(encoded)[k]) is type(v) for k, v in item.items())


def test_non_integral_numbers_and_nested_values_decode_as_boto3_does() -> None:
    attributes = {"n": {"N": "1.50"}, "l": {"L": [{"S": "a"}, {"N": "2"}]}, "m": {"M": {"x": {"NULL": True}}},
                  "ss": {"SS": ["a", "b"]}}
    decoded = from_attribute_values(attributes)
    reference = {k: TypeDeserializer().deserialize(v) for k, v in attributes.items()}
    assert decoded == {"n": Decimal("1.50"), "l": ["a", 2], "m": {"x": None}, "ss": {"a", "b"}}
    assert decoded["n"] == reference["n"] and decoded["ss"] == reference["ss"]
