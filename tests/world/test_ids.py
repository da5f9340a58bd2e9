import uuid

from hypothesis import given
from hypothesis import strategies as st

from mockserver.world.ids import derive_uuid, from_base62_id, to_base62_id


def test_the_seed_example_id_is_the_all_ones_uuid() -> None:
    assert from_base62_id("sub_", "sub_7n42DGM5Tflk9n8mt7Fhc7") == "ffffffff-ffff-ffff-ffff-ffffffffffff"
    assert to_base62_id("sub_", "ffffffff-ffff-ffff-ffff-ffffffffffff") == "sub_7n42DGM5Tflk9n8mt7Fhc7"


@given(st.uuids())
def test_base62_ids_round_trip(value: uuid.UUID) -> None:
    rendered = to_base62_id("inv_", str(value))
    assert rendered.startswith("inv_") and len(rendered) <= 4 + 22
    assert from_base62_id("inv_", rendered) == str(value)


def test_malformed_ids_are_not_ids() -> None:
    for text in (
        "cus_",
        "cus_!!",
        "inv_7n42DGM5Tflk9n8mt7Fhc7",
        "cus_" + "z" * 23,
        "cus_zzzzzzzzzzzzzzzzzzzzzz",
    ):
        assert from_base62_id("cus_", text) is None


def test_derived_uuids_depend_on_seed_and_path_only() -> None:
    assert derive_uuid(1, "a", 2) == derive_uuid(1, "a", 2)
    assert len({derive_uuid(1, "a", 2), derive_uuid(2, "a", 2), derive_uuid(1, "a", 3)}) == 3
    assert uuid.UUID(derive_uuid(1, "x")).version == 4
