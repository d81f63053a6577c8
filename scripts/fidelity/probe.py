"""Run one scenario against a Placement endpoint and print each response: its status and its
body with every object's keys in wire order and numbers as written, or its error code and
detail. Usage: probe.py URL (scripts/fidelity/compare.sh diffs ingot's against Placement's)."""
import json, sys, urllib.request
base = sys.argv[1]
RPA="99999999-9999-4999-8999-999999999999"; RPB="11111111-1111-4111-8111-111111111111"
C1="cccccccc-cccc-4ccc-8ccc-cccccccccccc"; C0="00000000-0000-4000-8000-000000000000"
AGG1="bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"; AGG2="aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
CHILD="cccccccc-0000-4000-8000-000000000001"; MISSING="dddddddd-0000-4000-8000-000000000001"
mv = "latest"
class Lit(str):
    def __repr__(self): return str(self)
def req(method, path, body=None, raw=None):
    data = raw.encode() if raw is not None else (json.dumps(body).encode() if body is not None else None)
    r = urllib.request.Request(base+path, data=data, method=method)
    r.add_header("X-Auth-Token","admin"); r.add_header("X-Roles","admin"); r.add_header("X-Project-Id","admin-project")
    r.add_header("OpenStack-API-Version","placement "+mv)
    if data is not None: r.add_header("Content-Type","application/json")
    try:
        resp = urllib.request.urlopen(r); status=resp.status; text=resp.read().decode()
    except urllib.error.HTTPError as e:
        status=e.code; text=e.read().decode()
    return status, text
def show(label, method, path, body=None, raw=None):
    st, text = req(method, path, body, raw)
    if not text:
        print(label, st); return None
    obj = json.loads(text, object_pairs_hook=lambda p: p, parse_float=lambda x: Lit(x), parse_int=lambda x: Lit(x))  # pairs keep order; numbers as written
    def walk(o):
        if isinstance(o, list) and o and isinstance(o[0], tuple):
            return "{" + ", ".join("%s: %s" % (k, walk(v)) for k, v in o) + "}"
        if isinstance(o, list):
            return "[" + ", ".join(walk(v) for v in o) + "]"
        return repr(o)
    if st >= 400:
        e = dict(obj)["errors"][0]; e = dict(e)
        print(label, st, dict(e).get("code"), dict(e)["detail"].split("\n\n")[-1].strip())
    else:
        print(label, st, walk(obj))
show("create A","POST","/resource_providers",{"uuid":RPA,"name":"a"})
show("create B","POST","/resource_providers",{"uuid":RPB,"name":"b"})
show("class ZED","PUT","/resource_classes/CUSTOM_ZED")
show("class ALPHA","PUT","/resource_classes/CUSTOM_ALPHA")
show("PUT invs","PUT","/resource_providers/%s/inventories"%RPA, raw='{"inventories": {"DISK_GB": {"total": 100}, "CUSTOM_ALPHA": {"total": 1}, "VCPU": {"total": 8, "allocation_ratio": 16}, "CUSTOM_ZED": {"total": 1, "allocation_ratio": 1e+16}, "MEMORY_MB": {"total": 1024, "allocation_ratio": 1.5}}, "resource_provider_generation": 0}')
show("GET invs","GET","/resource_providers/%s/inventories"%RPA)
show("GET inv","GET","/resource_providers/%s/inventories/VCPU"%RPA)
show("PUT invs B","PUT","/resource_providers/%s/inventories"%RPB, raw='{"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 4}, "DISK_GB": {"total": 10}}}')
show("usages","GET","/resource_providers/%s/usages"%RPA)
show("trait ZZZ","PUT","/traits/CUSTOM_ZZZ"); show("trait AAA","PUT","/traits/CUSTOM_AAA")
show("PUT traits","PUT","/resource_providers/%s/traits"%RPA,{"resource_provider_generation":1,"traits":["CUSTOM_AAA","CUSTOM_ZZZ","HW_CPU_X86_AVX2"]})
show("GET traits","GET","/resource_providers/%s/traits"%RPA)
show("traits in","GET","/traits?name=in:CUSTOM_AAA,HW_CPU_X86_AVX2,CUSTOM_ZZZ")
show("traits startswith","GET","/traits?name=startswith:CUSTOM_")
show("traits associated","GET","/traits?associated=true")
st, text = req("GET","/resource_classes"); print("classes tail", [c["name"] for c in json.loads(text)["resource_classes"]][-3:], "head", [c["name"] for c in json.loads(text)["resource_classes"]][:3])
show("PUT aggs","PUT","/resource_providers/%s/aggregates"%RPA,{"resource_provider_generation":2,"aggregates":[AGG1,AGG2]})
show("GET aggs","GET","/resource_providers/%s/aggregates"%RPA)
show("PUT alloc c1","PUT","/allocations/"+C1, raw='{"allocations": {"%s": {"resources": {"MEMORY_MB": 1, "VCPU": 2, "DISK_GB": 1}}, "%s": {"resources": {"DISK_GB": 1, "VCPU": 1}}}, "project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "ZULU"}' % (RPA, RPB))
show("POST alloc c0","POST","/allocations", raw='{"%s": {"allocations": {"%s": {"resources": {"VCPU": 1}}}, "project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "ALPHA"}}' % (C0, RPA))
show("GET alloc c1","GET","/allocations/"+C1)
show("GET rp allocs","GET","/resource_providers/%s/allocations"%RPA)
mv="1.37"; show("usages 1.37","GET","/usages?project_id=p"); mv="latest"
show("usages 1.38","GET","/usages?project_id=p")
show("usages all","GET","/usages?project_id=p&consumer_type=all")
show("rps","GET","/resource_providers")
show("candidates","GET","/allocation_candidates?resources=VCPU:1")
# error precedence
show("child","POST","/resource_providers",{"uuid":CHILD,"name":"child","parent_provider_uuid":RPA})
show("delete A","DELETE","/resource_providers/"+RPA)
show("create missing parent dup name","POST","/resource_providers",{"name":"b","uuid":"eeeeeeee-0000-4000-8000-000000000001","parent_provider_uuid":MISSING})
show("create own parent dup uuid","POST","/resource_providers",{"name":"new","uuid":RPB,"parent_provider_uuid":RPB})
show("update missing parent dup name","PUT","/resource_providers/"+RPB,{"name":"a","parent_provider_uuid":MISSING})
mv="1.36"
show("update child missing parent","PUT","/resource_providers/"+CHILD,{"name":"child","parent_provider_uuid":MISSING})
show("update child reparent dup name","PUT","/resource_providers/"+CHILD,{"name":"b","parent_provider_uuid":RPB})
mv="latest"
show("set invs gen+class","PUT","/resource_providers/%s/inventories"%RPB,{"resource_provider_generation":7,"inventories":{"NOPE":{"total":1}}})
show("set traits body+404","PUT","/resource_providers/%s/traits"%MISSING,{"traits":"x","resource_provider_generation":0})
show("set aggs 404+body","PUT","/resource_providers/%s/aggregates"%MISSING,{"aggregates":"x"})
gen = json.loads(req("GET", "/resource_providers/"+RPB)[1])["generation"]
show("PUT invs 2 bad capacities","PUT","/resource_providers/%s/inventories"%RPB, raw='{"resource_provider_generation": %d, "inventories": {"VCPU": {"total": 1, "reserved": 5}, "DISK_GB": {"total": 1, "reserved": 5}}}' % gen)
show("PUT invs 2 unknown classes","PUT","/resource_providers/%s/inventories"%RPB, raw='{"resource_provider_generation": %d, "inventories": {"CUSTOM_ZZ": {"total": 1}, "CUSTOM_AA": {"total": 1}}}' % gen)
