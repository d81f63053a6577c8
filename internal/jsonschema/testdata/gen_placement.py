#!/usr/bin/python3
"""Generate placement.json: Placement's schemas and what Python says about
requests like the ones the upstream gabbits send.

The schemas are read from Debian's python3-placement (8.0.0, microversion
1.39) and dumped in dict order, so the Go test can check its transcription
key for key. Errors come from python3-jsonschema 4.10.3 called as Placement
calls it (placement/util.py extract_json and validate_query_params):

    apt-get install -y python3-jsonschema python3-placement
    /usr/bin/python3 testdata/gen_placement.py > testdata/placement.json
"""

import json
import sys

import jsonschema
import placement.util  # noqa: F401  registers the "uuid" format checker
from placement.schemas import aggregate
from placement.schemas import allocation
from placement.schemas import allocation_candidate as ac
from placement.schemas import inventory
from placement.schemas import reshaper
from placement.schemas import resource_class
from placement.schemas import resource_provider as rp
from placement.schemas import trait
from placement.schemas import usage

SCHEMAS = {
    "POST_RESOURCE_PROVIDER_SCHEMA": rp.POST_RESOURCE_PROVIDER_SCHEMA,
    "PUT_RESOURCE_PROVIDER_SCHEMA": rp.PUT_RESOURCE_PROVIDER_SCHEMA,
    "POST_RP_SCHEMA_V1_14": rp.POST_RP_SCHEMA_V1_14,
    "PUT_RP_SCHEMA_V1_14": rp.PUT_RP_SCHEMA_V1_14,
    "GET_RPS_SCHEMA_1_0": rp.GET_RPS_SCHEMA_1_0,
    "GET_RPS_SCHEMA_1_3": rp.GET_RPS_SCHEMA_1_3,
    "GET_RPS_SCHEMA_1_4": rp.GET_RPS_SCHEMA_1_4,
    "GET_RPS_SCHEMA_1_14": rp.GET_RPS_SCHEMA_1_14,
    "GET_RPS_SCHEMA_1_18": rp.GET_RPS_SCHEMA_1_18,
    "ALLOCATION_SCHEMA": allocation.ALLOCATION_SCHEMA,
    "ALLOCATION_SCHEMA_V1_8": allocation.ALLOCATION_SCHEMA_V1_8,
    "ALLOCATION_SCHEMA_V1_12": allocation.ALLOCATION_SCHEMA_V1_12,
    "POST_ALLOCATIONS_V1_13": allocation.POST_ALLOCATIONS_V1_13,
    "ALLOCATION_SCHEMA_V1_28": allocation.ALLOCATION_SCHEMA_V1_28,
    "POST_ALLOCATIONS_V1_28": allocation.POST_ALLOCATIONS_V1_28,
    "ALLOCATION_SCHEMA_V1_34": allocation.ALLOCATION_SCHEMA_V1_34,
    "POST_ALLOCATIONS_V1_34": allocation.POST_ALLOCATIONS_V1_34,
    "ALLOCATION_SCHEMA_V1_38": allocation.ALLOCATION_SCHEMA_V1_38,
    "POST_ALLOCATIONS_V1_38": allocation.POST_ALLOCATIONS_V1_38,
    "POST_INVENTORY_SCHEMA": inventory.POST_INVENTORY_SCHEMA,
    "PUT_INVENTORY_RECORD_SCHEMA": inventory.PUT_INVENTORY_RECORD_SCHEMA,
    "PUT_INVENTORY_SCHEMA": inventory.PUT_INVENTORY_SCHEMA,
    "PUT_AGGREGATES_SCHEMA_V1_1": aggregate.PUT_AGGREGATES_SCHEMA_V1_1,
    "PUT_AGGREGATES_SCHEMA_V1_19": aggregate.PUT_AGGREGATES_SCHEMA_V1_19,
    "CUSTOM_TRAIT": trait.CUSTOM_TRAIT,
    "PUT_TRAITS_SCHEMA": trait.PUT_TRAITS_SCHEMA,
    "SET_TRAITS_FOR_RP_SCHEMA": trait.SET_TRAITS_FOR_RP_SCHEMA,
    "LIST_TRAIT_SCHEMA": trait.LIST_TRAIT_SCHEMA,
    "POST_RC_SCHEMA_V1_2": resource_class.POST_RC_SCHEMA_V1_2,
    "GET_USAGES_SCHEMA_1_9": usage.GET_USAGES_SCHEMA_1_9,
    "GET_USAGES_SCHEMA_V1_38": usage.GET_USAGES_SCHEMA_V1_38,
    "GET_SCHEMA_1_10": ac.GET_SCHEMA_1_10,
    "GET_SCHEMA_1_16": ac.GET_SCHEMA_1_16,
    "GET_SCHEMA_1_17": ac.GET_SCHEMA_1_17,
    "GET_SCHEMA_1_21": ac.GET_SCHEMA_1_21,
    "GET_SCHEMA_1_25": ac.GET_SCHEMA_1_25,
    "GET_SCHEMA_1_31": ac.GET_SCHEMA_1_31,
    "GET_SCHEMA_1_33": ac.GET_SCHEMA_1_33,
    "GET_SCHEMA_1_35": ac.GET_SCHEMA_1_35,
    "GET_SCHEMA_1_36": ac.GET_SCHEMA_1_36,
    "POST_RESHAPER_SCHEMA": reshaper.POST_RESHAPER_SCHEMA,
    "POST_RESHAPER_SCHEMA_V1_34": reshaper.POST_RESHAPER_SCHEMA_V1_34,
    "POST_RESHAPER_SCHEMA_V1_38": reshaper.POST_RESHAPER_SCHEMA_V1_38,
}

U1 = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
U2 = "11111111-2222-3333-4444-555555555555"
RES = {"resources": {"VCPU": 1}}


def alloc12(**extra):
    body = {"allocations": {U1: {"resources": {"VCPU": 1}}},
            "project_id": "p", "user_id": "u"}
    body.update(extra)
    return body


def alloc38(**extra):
    fields = {"consumer_generation": None, "consumer_type": "INSTANCE"}
    fields.update(extra)
    return alloc12(**fields)


def inv(**fields):
    body = {"resource_class": "DISK_GB", "total": 10}
    body.update(fields)
    return body


CASES = [
    # resource providers (resource-provider.yaml and friends)
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"name": "x" * 201}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"name": "rp", "uuid": "not-a-uuid"}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"uuid": U1}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"name": "rp", "bad_field": 1}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"bad_field": 1}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"name": 5}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"name": "rp", "uuid": 7}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"name": "rp", "parent_provider_uuid": U1}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", ["name"]),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"name": "\u00e9" * 200}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"name": "\u00e9" * 201}),
    ("POST_RESOURCE_PROVIDER_SCHEMA", {"name": "rp", "uuid": "{" + U1 + "}"}),
    ("POST_RP_SCHEMA_V1_14", {"name": "rp", "parent_provider_uuid": "bad"}),
    ("POST_RP_SCHEMA_V1_14", {"name": "rp", "parent_provider_uuid": 5}),
    ("POST_RP_SCHEMA_V1_14", {"name": "rp", "parent_provider_uuid": None}),
    ("POST_RP_SCHEMA_V1_14", {"name": "rp", "parent_provider_uuid": [U1]}),
    ("PUT_RESOURCE_PROVIDER_SCHEMA", {"name": "rp", "uuid": U1}),
    ("PUT_RP_SCHEMA_V1_14", {"name": "x" * 300, "parent_provider_uuid": "x"}),
    ("GET_RPS_SCHEMA_1_0", {"uuid": "not-a-uuid"}),
    ("GET_RPS_SCHEMA_1_0", {"member_of": U1}),
    ("GET_RPS_SCHEMA_1_18", {"in_tree": "bad"}),
    ("GET_RPS_SCHEMA_1_18", {"required": "A", "bogus": "1", "other": "2"}),
    ("GET_RPS_SCHEMA_1_14", {"required": "HW_CPU_X86_SSE"}),
    # allocations
    ("ALLOCATION_SCHEMA", {"allocations": []}),
    ("ALLOCATION_SCHEMA", {"allocations": [
        {"resource_provider": {"uuid": U1}, "resources": {"VCPU": 0}}]}),
    ("ALLOCATION_SCHEMA", {"allocations": [
        {"resource_provider": {"uuid": U1}, "resources": {}}]}),
    ("ALLOCATION_SCHEMA", {"allocations": [
        {"resource_provider": {"uuid": U1}}]}),
    ("ALLOCATION_SCHEMA", {"allocations": [
        {"resource_provider": {"bad": 1}, "resources": {"VCPU": 1}}]}),
    ("ALLOCATION_SCHEMA", {"allocations": [
        {"resource_provider": {"uuid": "x"}, "resources": {"vcpu": 1}}]}),
    ("ALLOCATION_SCHEMA", {"allocations": [
        {"resource_provider": {"uuid": U1}, "resources": {"VCPU": 1.5}}]}),
    ("ALLOCATION_SCHEMA", {"allocations": [
        {"resource_provider": {"uuid": U1}, "resources": {"VCPU": 1.0}}]}),
    ("ALLOCATION_SCHEMA", {"allocations": {U1: RES}}),
    ("ALLOCATION_SCHEMA_V1_8", {"allocations": [
        {"resource_provider": {"uuid": U1}, "resources": {"VCPU": 1}}],
        "user_id": "u"}),
    ("ALLOCATION_SCHEMA_V1_8", {"allocations": [
        {"resource_provider": {"uuid": U1}, "resources": {"VCPU": 1}}],
        "project_id": "", "user_id": "u"}),
    ("ALLOCATION_SCHEMA_V1_8", {"allocations": [
        {"resource_provider": {"uuid": U1}, "resources": {"VCPU": 1}}],
        "project_id": "p", "user_id": "u" * 256}),
    ("ALLOCATION_SCHEMA_V1_12", alloc12(allocations=[RES])),
    ("ALLOCATION_SCHEMA_V1_12", alloc12(allocations={"rp": RES})),
    ("ALLOCATION_SCHEMA_V1_12", alloc12(allocations={})),
    ("ALLOCATION_SCHEMA_V1_12", alloc12(allocations={U1: {}})),
    ("ALLOCATION_SCHEMA_V1_12", alloc12(allocations={U1: {
        "resources": {"VCPU": 1}, "generation": "x"}})),
    ("ALLOCATION_SCHEMA_V1_12", {"allocations": {U1: RES}, "bad_field": 1}),
    ("ALLOCATION_SCHEMA_V1_12", {"bad_field": 1}),
    ("POST_ALLOCATIONS_V1_13", {}),
    ("POST_ALLOCATIONS_V1_13", {"not-a-uuid": alloc12()}),
    ("POST_ALLOCATIONS_V1_13", {U1: alloc12(allocations={})}),
    ("POST_ALLOCATIONS_V1_13", {U1: {"allocations": {U2: RES}}}),
    ("ALLOCATION_SCHEMA_V1_28", alloc12()),
    ("ALLOCATION_SCHEMA_V1_28", alloc12(consumer_generation="x")),
    ("ALLOCATION_SCHEMA_V1_28", alloc12(consumer_generation=1.5)),
    ("ALLOCATION_SCHEMA_V1_28", alloc12(consumer_generation=3)),
    ("POST_ALLOCATIONS_V1_28", {U1: alloc12()}),
    ("ALLOCATION_SCHEMA_V1_34", alloc12(consumer_generation=None,
                                        mappings={"": [U1]})),
    ("ALLOCATION_SCHEMA_V1_34", alloc12(consumer_generation=None,
                                        mappings={"grp": []})),
    ("ALLOCATION_SCHEMA_V1_34", alloc12(consumer_generation=None,
                                        mappings={"grp": ["not-a-uuid"]})),
    ("ALLOCATION_SCHEMA_V1_34", alloc12(consumer_generation=None,
                                        mappings=[U1])),
    ("ALLOCATION_SCHEMA_V1_34", alloc12(consumer_generation=None,
                                        mappings={})),
    ("ALLOCATION_SCHEMA_V1_38", alloc12(consumer_generation=None)),
    ("ALLOCATION_SCHEMA_V1_38", alloc38(consumer_type="instance")),
    ("ALLOCATION_SCHEMA_V1_38", alloc38(consumer_type="")),
    ("ALLOCATION_SCHEMA_V1_38", alloc38(consumer_type="INSTANCE\n")),
    ("POST_ALLOCATIONS_V1_38", {U1: alloc12(consumer_generation=None)}),
    ("POST_ALLOCATIONS_V1_38", {U1: alloc38(consumer_type="instance")}),
    # inventories
    ("POST_INVENTORY_SCHEMA", inv(total=0)),
    ("POST_INVENTORY_SCHEMA", inv(total=2147483648)),
    ("POST_INVENTORY_SCHEMA", inv(total=-1)),
    ("POST_INVENTORY_SCHEMA", inv(reserved=-1)),
    ("POST_INVENTORY_SCHEMA", inv(min_unit=0)),
    ("POST_INVENTORY_SCHEMA", inv(max_unit=0)),
    ("POST_INVENTORY_SCHEMA", inv(step_size=0)),
    ("POST_INVENTORY_SCHEMA", inv(min_unit=0, max_unit=0, step_size=0)),
    ("POST_INVENTORY_SCHEMA", inv(allocation_ratio="x")),
    ("POST_INVENTORY_SCHEMA", inv(allocation_ratio=1e39)),
    ("POST_INVENTORY_SCHEMA", inv(resource_class="bad-class")),
    ("POST_INVENTORY_SCHEMA", inv(total="5")),
    ("POST_INVENTORY_SCHEMA", inv(total=10.0)),
    ("POST_INVENTORY_SCHEMA", inv(total=10.5)),
    ("POST_INVENTORY_SCHEMA", inv(total=99999999999999999999999)),
    ("POST_INVENTORY_SCHEMA", inv(extra=1)),
    ("POST_INVENTORY_SCHEMA", {"resource_class": "DISK_GB"}),
    ("POST_INVENTORY_SCHEMA", {"total": 1}),
    ("PUT_INVENTORY_RECORD_SCHEMA", {"total": 0}),
    ("PUT_INVENTORY_SCHEMA", {"inventories": {"DISK_GB": {"total": 0}},
                              "resource_provider_generation": 0}),
    ("PUT_INVENTORY_SCHEMA", {"inventories": {"DISK_GB": {"total": 1}}}),
    ("PUT_INVENTORY_SCHEMA", {"inventories": {"bad": {"total": 0}},
                              "resource_provider_generation": 0}),
    ("PUT_INVENTORY_SCHEMA", {"inventories": {
        "DISK_GB": {"total": 1, "resource_provider_generation": 1}},
        "resource_provider_generation": 0}),
    ("PUT_INVENTORY_SCHEMA", {"inventories": {"DISK_GB": {"total": 1,
                                                          "foo": 1}},
                              "resource_provider_generation": 0}),
    # aggregates
    ("PUT_AGGREGATES_SCHEMA_V1_1", [U1, U1]),
    ("PUT_AGGREGATES_SCHEMA_V1_1", ["not-a-uuid"]),
    ("PUT_AGGREGATES_SCHEMA_V1_1", {"aggregates": [U1],
                                    "resource_provider_generation": 0}),
    ("PUT_AGGREGATES_SCHEMA_V1_19", [U1]),
    ("PUT_AGGREGATES_SCHEMA_V1_19", {"aggregates": [U1]}),
    ("PUT_AGGREGATES_SCHEMA_V1_19", {"aggregates": [U1, U1],
                                     "resource_provider_generation": 0}),
    # traits
    ("CUSTOM_TRAIT", ""),
    ("CUSTOM_TRAIT", "lower"),
    ("CUSTOM_TRAIT", "CUSTOM_" + "A" * 249),
    ("CUSTOM_TRAIT", "CUSTOM_OK\n"),
    ("PUT_TRAITS_SCHEMA", {"traits": ["CUSTOM_A", "bad"]}),
    ("SET_TRAITS_FOR_RP_SCHEMA", {"traits": "invalid_type",
                                  "resource_provider_generation": 0}),
    ("SET_TRAITS_FOR_RP_SCHEMA", {"traits": ["A"],
                                  "resource_provider_generation": "x"}),
    ("SET_TRAITS_FOR_RP_SCHEMA", {"traits": ["A"]}),
    ("SET_TRAITS_FOR_RP_SCHEMA", {"traits": ["A"], "resource_provider_generation": 0,
                                  "additional": 1}),
    ("SET_TRAITS_FOR_RP_SCHEMA", {"traits": [""],
                                  "resource_provider_generation": 0}),
    ("LIST_TRAIT_SCHEMA", {"invalid": "abc"}),
    # resource classes
    ("POST_RC_SCHEMA_V1_2", {"name": "FOO"}),
    ("POST_RC_SCHEMA_V1_2", {"name": "CUSTOM_" + "A" * 250}),
    ("POST_RC_SCHEMA_V1_2", {"name": "custom_" + "a" * 250}),
    ("POST_RC_SCHEMA_V1_2", {"name": "CUSTOM_FOO", "extra": 1}),
    ("POST_RC_SCHEMA_V1_2", {}),
    # usages (query strings)
    ("GET_USAGES_SCHEMA_1_9", {}),
    ("GET_USAGES_SCHEMA_1_9", {"project_id": ""}),
    ("GET_USAGES_SCHEMA_1_9", {"project_id": "x" * 256}),
    ("GET_USAGES_SCHEMA_1_9", {"project_id": "p", "user_id": ""}),
    ("GET_USAGES_SCHEMA_1_9", {"project_id": "p", "consumer_type": "X"}),
    ("GET_USAGES_SCHEMA_V1_38", {"project_id": "p", "consumer_type": ""}),
    ("GET_USAGES_SCHEMA_V1_38", {"project_id": "p", "consumer_type": "instance"}),
    ("GET_USAGES_SCHEMA_V1_38", {"project_id": "p", "consumer_type": "all"}),
    ("GET_USAGES_SCHEMA_V1_38", {"project_id": "p", "consumer_type": "allx"}),
    ("GET_USAGES_SCHEMA_V1_38", {"project_id": "p", "consumer_type": "unknownx"}),
    # allocation candidates (query strings)
    ("GET_SCHEMA_1_10", {}),
    ("GET_SCHEMA_1_10", {"resources": "VCPU:1", "limit": "5"}),
    ("GET_SCHEMA_1_16", {"resources": "VCPU:1", "limit": "cow"}),
    ("GET_SCHEMA_1_16", {"resources": "VCPU:1", "limit": "-99"}),
    ("GET_SCHEMA_1_16", {"resources": "VCPU:1", "limit": "0"}),
    ("GET_SCHEMA_1_16", {"resources": "VCPU:1", "limit": ""}),
    ("GET_SCHEMA_1_16", {"resources": "VCPU:1", "limit": 0}),
    ("GET_SCHEMA_1_16", {"resources": "VCPU:1", "required": "A"}),
    ("GET_SCHEMA_1_17", {"resources": "VCPU:1", "member_of": U1}),
    ("GET_SCHEMA_1_21", {"resources": "VCPU:1", "in_tree": U1}),
    ("GET_SCHEMA_1_25", {"resources01": "VCPU:1"}),
    ("GET_SCHEMA_1_25", {"resources1@": "VCPU:1"}),
    ("GET_SCHEMA_1_25", {"resources1": "VCPU:1", "group_policy": "bogus"}),
    ("GET_SCHEMA_1_25", {"resources_foo": "VCPU:1", "in_tree1": U1}),
    ("GET_SCHEMA_1_31", {"resources_foo": "VCPU:1"}),
    ("GET_SCHEMA_1_33", {"resources_" + "01234567" * 8: "VCPU:1"}),
    ("GET_SCHEMA_1_33", {"resources": "VCPU:1", "root_required": "A"}),
    ("GET_SCHEMA_1_35", {"resources": "VCPU:1", "same_subtree": "_a"}),
    ("GET_SCHEMA_1_36", {"resources": "VCPU:1", "limit": "1", "bad": "x"}),
    # reshaper
    ("POST_RESHAPER_SCHEMA", {}),
    ("POST_RESHAPER_SCHEMA", {"inventories": {}, "allocations": {}}),
    ("POST_RESHAPER_SCHEMA", {"inventories": {U1: {
        "inventories": {}, "resource_provider_generation": 0}},
        "allocations": {U2: alloc12()}}),
    ("POST_RESHAPER_SCHEMA_V1_34", {"inventories": {U1: {
        "inventories": {}, "resource_provider_generation": 0}},
        "allocations": {U2: alloc12(consumer_generation=None,
                                    mappings={"x": []})}}),
    ("POST_RESHAPER_SCHEMA_V1_38", {"inventories": {U1: {
        "inventories": {}, "resource_provider_generation": 0}},
        "allocations": {U2: alloc12(consumer_generation=None)}}),
]


def check(schema, instance):
    try:
        jsonschema.validate(instance, schema,
                            format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as e:
        return str(e)
    return None


def main():
    cases = []
    for name, instance in CASES:
        instance = json.loads(json.dumps(instance, sort_keys=True))
        cases.append({"schema": name, "instance": instance,
                      "error": check(SCHEMAS[name], instance)})
    out = {"schemas": SCHEMAS, "cases": cases}
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
