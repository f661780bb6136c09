"""DynamoDB write units in the per-file accounting: item size and index writes."""

from benchmarks.pipeline_worker import dynamodb_write_units, item_size


def test_item_size_counts_attribute_names_and_values() -> None:
    item = {
        "pk": {"S": "bucket/key"},  # 2 + 10
        "status": {"S": "VALID"},  # 6 + 5
        "flag": {"BOOL": True},  # 4 + 1
        "tags": {"M": {"a": {"S": "xy"}}},  # 4 + 3 + (1 + 2)
    }

    assert item_size(item) == 12 + 11 + 5 + 10


def test_given_a_claim_then_a_final_write_then_the_index_is_written_once_then_twice() -> None:
    writes = [("PutItem", "b/k", 300), ("PutItem", "b/k", 1_500)]

    # claim: 1 KiB to the table + 1 to the index; final: 2 KiB to the table + 2 x 2 to the index
    assert dynamodb_write_units(writes, final_size=1_500) == 2 + 6


def test_an_update_without_an_item_is_billed_at_the_final_item_size() -> None:
    assert dynamodb_write_units([("UpdateItem", "b/k", -1)], final_size=2_100) == 3 * 2
