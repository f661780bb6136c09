"""DynamoDB write units in the per-file accounting: item size and index writes."""

from pathlib import Path

from benchmarks.pipeline_worker import dynamodb_write_units, index_projection, item_size
from scalper.local.template import load_template

REPO = Path(__file__).resolve().parents[3]


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


def test_given_a_keys_only_index_then_each_index_write_is_one_unit_whatever_the_item() -> None:
    writes = [("PutItem", "b/k", 300), ("PutItem", "b/k", 1_500)]

    # claim: 1 KiB + 1 index entry; final: 2 KiB + 2 index entries of 1 unit each
    assert dynamodb_write_units(writes, final_size=1_500, index_projection="KEYS_ONLY") == 2 + 4


def test_the_accounting_reads_the_projection_the_template_deploys() -> None:
    assert index_projection(load_template(REPO / "template.yaml")) == "KEYS_ONLY"
