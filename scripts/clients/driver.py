#!/usr/bin/python3
"""Drive a Placement endpoint with real OpenStack clients and record what they see.

Three suites, each a fixed sequence of named steps meant for a fresh, empty Placement:

  cli   the openstack CLI with osc-placement (one process per command): each step keeps the
        exit status, the `-f json` output and stderr.
  sdk   openstacksdk's placement proxy: each step keeps the resources' attributes or the
        exception the proxy raised.
  nova  Nova's SchedulerReportClient (nova.scheduler.client.report), configured as
        nova-compute is, through nova.conf's [placement] group (auth_type = admin_token, the
        endpoint given as endpoint_override): a compute node tree with nested children,
        inventory, traits, aggregates, allocation candidates, claims, a move, a reshape and
        deletions made behind the client's cache. Each step keeps return values, exceptions,
        the warnings and errors Nova logged, and what the client then reads back.

What legitimately differs between two servers (or two runs) is normalized in every recorded
value: UUIDs the driver chose become <their-name>, other UUIDs <uuid-N> by order of first
appearance, request ids req-<id>, the endpoint <endpoint>, timestamps <time>. Everything else
counts: list order, key sets, numbers as written (1 and 1.0 differ), error texts and statuses.
Object key order does not (documents are compared with sorted keys).

  driver.py record SUITE URL FILE   run SUITE against URL (the real Placement) and write FILE
  driver.py check SUITE URL FILE    run SUITE against URL (ingot) and compare it with FILE,
                                    printing each differing step and 'N passed, N failed';
                                    exit status 1 if any step differs.

Run with Debian's /usr/bin/python3 (scripts/clients/install.sh installs the clients).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid as uuidlib

UUID_RE = re.compile(r'[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}')
REQ_RE = re.compile(r'req-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
TIME_RE = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?')
MICROVERSION = '1.39'


class Recorder:
    """Collects normalized step results in order."""

    def __init__(self, endpoint):
        self.endpoint = endpoint.rstrip('/')
        self.names = {}      # canonical uuid (lower, dashed) -> placeholder
        self.unknown = 0
        self.steps = []

    def uuid(self, name):
        """A fresh random UUID that the records call <name>."""
        u = str(uuidlib.uuid4())
        self.names[u] = '<%s>' % name
        return u

    def _uuid_name(self, m):
        try:
            key = str(uuidlib.UUID(m.group(0)))
        except ValueError:
            return m.group(0)
        if key not in self.names:
            self.unknown += 1
            self.names[key] = '<uuid-%d>' % self.unknown
        return self.names[key]

    def norm(self, v):
        if isinstance(v, str):
            v = canonical_error_bodies(v)
            v = v.replace(self.endpoint, '<endpoint>')
            v = REQ_RE.sub('req-<id>', v)
            v = UUID_RE.sub(self._uuid_name, v)
            return TIME_RE.sub('<time>', v)
        if isinstance(v, dict):
            return {self.norm(k): self.norm(x) for k, x in v.items()}
        if isinstance(v, (set, frozenset)):
            return sorted((self.norm(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True))
        if hasattr(v, '_asdict'):            # namedtuples (Nova's TraitInfo, ProviderData ...)
            return self.norm(dict(v._asdict()))
        if isinstance(v, (list, tuple)):
            return [self.norm(x) for x in v]
        if v is None or isinstance(v, (bool, int, float)):
            return v
        return self.norm(repr(v))

    def add(self, name, result):
        if any(s['step'] == name for s in self.steps):
            raise RuntimeError('duplicate step name %s' % name)
        self.steps.append({'step': name, 'result': self.norm(result)})

    def run(self, name, fn):
        """Record fn()'s value, or the exception it raised; return the value (None on error)."""
        try:
            value = fn()
        except Exception as e:  # noqa: BLE001 - the exception is the client-visible answer
            self.add(name, {'exception': exception_summary(e)})
            return None
        self.add(name, {'value': value})
        return value


def canonical_error_bodies(text):
    """Rewrite each JSON error document quoted in a message (Nova logs and raises with the
    response text) with sorted keys: its key order is no client's business, its values are."""
    out, pos = [], 0
    dec = json.JSONDecoder()
    while True:
        i = text.find('{"errors"', pos)
        if i < 0:
            out.append(text[pos:])
            return ''.join(out)
        try:
            doc, end = dec.raw_decode(text, i)
        except ValueError:
            out.append(text[pos:i + 1])
            pos = i + 1
            continue
        out.append(text[pos:i])
        out.append(json.dumps(doc, sort_keys=True))
        pos = end


def exception_summary(e):
    out = {'type': type(e).__module__ + '.' + type(e).__name__, 'message': str(e)}
    for attr in ('status_code', 'http_status', 'details'):
        v = getattr(e, attr, None)
        if v is not None:
            out[attr] = v
    return out


def http(rec, method, path, body=None):
    """A raw request to the endpoint, as an admin, at the newest microversion (for changes made
    behind a client's back). Returns (status, parsed body or None)."""
    import urllib.error
    import urllib.request
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(rec.endpoint + path, data=data, method=method, headers={
        'X-Auth-Token': 'admin', 'OpenStack-API-Version': 'placement ' + MICROVERSION,
        'Accept': 'application/json', 'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors='replace')


# ---------------------------------------------------------------------------------------------
# openstack CLI + osc-placement

def suite_cli(rec):
    base = ['openstack', '--os-auth-type', 'admin_token', '--os-token', 'admin',
            '--os-endpoint', rec.endpoint, '--os-placement-api-version', MICROVERSION]
    env = dict(os.environ)
    for k in list(env):
        if k.startswith('OS_'):
            del env[k]
    env['PYTHONWARNINGS'] = 'ignore'

    def cli(name, *args, json_out=True, unordered=False):
        """unordered: the rows' order is upstream's set order (random per process), so they
        are compared sorted by their normalized uuid."""
        argv = base + list(args) + (['-f', 'json'] if json_out else [])
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
        out = p.stdout
        try:
            parsed = json.loads(out) if out.strip() else None
        except ValueError:
            parsed = out
        if unordered and isinstance(parsed, list):
            parsed = sorted(parsed, key=lambda row: str(rec.norm(row.get('uuid'))))
        rec.add(name, {'exit': p.returncode, 'stdout': parsed,
                       'stderr': [ln for ln in p.stderr.splitlines() if ln.strip()]})
        return parsed

    consumer1, consumer2 = rec.uuid('consumer1'), rec.uuid('consumer2')
    project, user = rec.uuid('project'), rec.uuid('user')
    agg1, agg2 = rec.uuid('agg1'), rec.uuid('agg2')
    child_uuid = rec.uuid('cn1-numa0')

    cli('class create CUSTOM_GOLD', 'resource', 'class', 'create', 'CUSTOM_GOLD', json_out=False)
    cli('class show CUSTOM_GOLD', 'resource', 'class', 'show', 'CUSTOM_GOLD')
    cli('class create duplicate', 'resource', 'class', 'create', 'CUSTOM_GOLD', json_out=False)
    cli('class create bad name', 'resource', 'class', 'create', 'GOLD', json_out=False)
    cli('class list', 'resource', 'class', 'list')
    cli('trait create CUSTOM_RAID', 'trait', 'create', 'CUSTOM_RAID', json_out=False)
    cli('trait create CUSTOM_ALPHA', 'trait', 'create', 'CUSTOM_ALPHA', json_out=False)
    cli('trait list custom', 'trait', 'list', '--name', 'startswith:CUSTOM_')
    cli('trait show missing', 'trait', 'show', 'CUSTOM_MISSING')

    rp = cli('provider create cn1', 'resource', 'provider', 'create', 'cn1')
    cn1 = rp.get('uuid', 'missing') if isinstance(rp, dict) else 'missing'
    cli('provider create duplicate name', 'resource', 'provider', 'create', 'cn1')
    cli('provider create child', 'resource', 'provider', 'create', 'cn1-numa0',
        '--uuid', child_uuid, '--parent-provider', cn1)
    cli('provider create cn2', 'resource', 'provider', 'create', 'cn2')
    cli('provider list', 'resource', 'provider', 'list')
    cli('provider list in tree', 'resource', 'provider', 'list', '--in-tree', child_uuid)
    cli('provider set rename', 'resource', 'provider', 'set', cn1, '--name', 'compute-1')
    cli('provider show', 'resource', 'provider', 'show', cn1)

    cli('inventory set', 'resource', 'provider', 'inventory', 'set', cn1,
        '--resource', 'VCPU=8', '--resource', 'VCPU:allocation_ratio=16.0',
        '--resource', 'MEMORY_MB=4096', '--resource', 'MEMORY_MB:reserved=512',
        '--resource', 'DISK_GB=100', '--resource', 'DISK_GB:allocation_ratio=1.5')
    cli('inventory list', 'resource', 'provider', 'inventory', 'list', cn1)
    cli('inventory show VCPU', 'resource', 'provider', 'inventory', 'show', cn1, 'VCPU')
    cli('inventory class set missing class', 'resource', 'provider', 'inventory', 'class',
        'set', child_uuid, 'CUSTOM_GOLD', '--total', '4')
    cli('inventory set child', 'resource', 'provider', 'inventory', 'set', child_uuid,
        '--resource', 'CUSTOM_GOLD=4', '--resource', 'CUSTOM_GOLD:max_unit=2')
    cli('inventory class set child', 'resource', 'provider', 'inventory', 'class', 'set',
        child_uuid, 'CUSTOM_GOLD', '--total', '6', '--max_unit', '3')
    cli('inventory class set bad ratio', 'resource', 'provider', 'inventory', 'class', 'set',
        child_uuid, 'CUSTOM_GOLD', '--total', '4', '--allocation_ratio', '0')
    cli('inventory list child', 'resource', 'provider', 'inventory', 'list', child_uuid)

    # At most one standard trait per provider where trait order shows: the real Placement
    # lists a provider's traits in trait id order, and it numbers the standard traits in set
    # order (a different order in each fresh database); custom traits follow in creation order.
    cli('trait set', 'resource', 'provider', 'trait', 'set', cn1, '--trait', 'CUSTOM_ALPHA',
        '--trait', 'HW_CPU_X86_AVX2', '--trait', 'CUSTOM_RAID')
    cli('trait list provider', 'resource', 'provider', 'trait', 'list', cn1)
    cli('trait set unknown', 'resource', 'provider', 'trait', 'set', cn1, '--trait', 'CUSTOM_NOPE')
    cli('trait delete in use', 'trait', 'delete', 'CUSTOM_RAID', json_out=False)

    shown = cli('provider show before aggregates', 'resource', 'provider', 'show', cn1)
    gen = str(shown.get('generation')) if isinstance(shown, dict) else '0'
    cli('aggregate set', 'resource', 'provider', 'aggregate', 'set', cn1,
        '--aggregate', agg1, '--aggregate', agg2, '--generation', gen)
    cli('aggregate set stale generation', 'resource', 'provider', 'aggregate', 'set', cn1,
        '--aggregate', agg1, '--generation', gen)
    # Upstream gives new aggregates ids in Python set order, and lists them in id order.
    cli('aggregate list', 'resource', 'provider', 'aggregate', 'list', cn1, unordered=True)
    cli('provider list member_of', 'resource', 'provider', 'list', '--member-of', agg2)
    cli('provider list required', 'resource', 'provider', 'list', '--required', 'HW_CPU_X86_AVX2')

    cli('candidates', 'allocation', 'candidate', 'list', '--resource', 'VCPU=2',
        '--resource', 'MEMORY_MB=1024', '--required', 'HW_CPU_X86_AVX2')
    cli('candidates nested', 'allocation', 'candidate', 'list', '--group', '1',
        '--resource', 'CUSTOM_GOLD=2', '--group', '2', '--resource', 'VCPU=1')
    cli('candidates none', 'allocation', 'candidate', 'list', '--resource', 'VCPU=1000')

    cli('allocation set', 'resource', 'provider', 'allocation', 'set', consumer1,
        '--allocation', 'rp=%s,VCPU=2,MEMORY_MB=1024' % cn1,
        '--allocation', 'rp=%s,CUSTOM_GOLD=2' % child_uuid,
        '--project-id', project, '--user-id', user, '--consumer-type', 'INSTANCE')
    cli('allocation show', 'resource', 'provider', 'allocation', 'show', consumer1)
    cli('allocation set over capacity', 'resource', 'provider', 'allocation', 'set', consumer2,
        '--allocation', 'rp=%s,CUSTOM_GOLD=3' % child_uuid,
        '--project-id', project, '--user-id', user, '--consumer-type', 'INSTANCE')
    cli('provider usage show', 'resource', 'provider', 'usage', 'show', cn1)
    cli('project usage show', 'resource', 'usage', 'show', project)
    cli('provider show allocations', 'resource', 'provider', 'show', cn1, '--allocations')
    cli('inventory delete in use', 'resource', 'provider', 'inventory', 'delete', cn1,
        '--resource-class', 'VCPU', json_out=False)
    cli('inventory set below usage', 'resource', 'provider', 'inventory', 'class', 'set', cn1,
        'VCPU', '--total', '1')
    cli('inventory delete unused', 'resource', 'provider', 'inventory', 'delete', cn1,
        '--resource-class', 'DISK_GB', json_out=False)

    cli('delete parent with children and allocations', 'resource', 'provider', 'delete', cn1,
        json_out=False)
    cli('delete child with allocations', 'resource', 'provider', 'delete', child_uuid,
        json_out=False)
    cli('allocation unset child', 'resource', 'provider', 'allocation', 'unset', consumer1,
        '--provider', child_uuid)
    cli('allocation delete', 'resource', 'provider', 'allocation', 'delete', consumer1,
        json_out=False)
    cli('delete child', 'resource', 'provider', 'delete', child_uuid, json_out=False)
    cli('delete parent', 'resource', 'provider', 'delete', cn1, json_out=False)
    cli('show deleted', 'resource', 'provider', 'show', cn1)
    cli('class delete', 'resource', 'class', 'delete', 'CUSTOM_GOLD', json_out=False)
    cli('class delete standard', 'resource', 'class', 'delete', 'VCPU', json_out=False)
    cli('provider list end', 'resource', 'provider', 'list')


# ---------------------------------------------------------------------------------------------
# openstacksdk's placement proxy

def suite_sdk(rec):
    import openstack
    conn = openstack.connection.Connection(
        auth_type='admin_token', auth={'token': 'admin', 'endpoint': rec.endpoint},
        placement_endpoint_override=rec.endpoint, placement_api_version=MICROVERSION)
    pl = conn.placement

    def attrs(r):
        d = r.to_dict(computed=False)
        d.pop('location', None)
        return d

    root_uuid, child_uuid = rec.uuid('sdk-root'), rec.uuid('sdk-child')
    rec.run('create root', lambda: attrs(pl.create_resource_provider(id=root_uuid, name='sdk-root')))
    rec.run('create child', lambda: attrs(pl.create_resource_provider(
        id=child_uuid, name='sdk-child', parent_provider_id=root_uuid)))
    rec.run('create unnamed uuid', lambda: attrs(pl.create_resource_provider(name='sdk-other')))
    rec.run('create duplicate name', lambda: attrs(pl.create_resource_provider(name='sdk-root')))
    rec.run('create bad parent', lambda: attrs(pl.create_resource_provider(
        name='sdk-orphan', parent_provider_id=rec.uuid('missing-parent'))))
    rec.run('get root', lambda: attrs(pl.get_resource_provider(root_uuid)))
    rec.run('get missing', lambda: attrs(pl.get_resource_provider(rec.uuid('missing'))))
    rec.run('find by name', lambda: attrs(pl.find_resource_provider('sdk-child')))
    rec.run('find missing', lambda: pl.find_resource_provider('nope'))
    rec.run('list', lambda: [attrs(r) for r in pl.resource_providers()])
    rec.run('list by name', lambda: [attrs(r) for r in pl.resource_providers(name='sdk-child')])
    rec.run('list in tree', lambda: [attrs(r) for r in pl.resource_providers(in_tree=child_uuid)])
    rec.run('update rename', lambda: attrs(pl.update_resource_provider(root_uuid, name='sdk-root-2')))
    rec.run('update reparent', lambda: attrs(pl.update_resource_provider(
        child_uuid, name='sdk-child', parent_provider_id=None)))
    rec.run('update rename to taken', lambda: attrs(pl.update_resource_provider(
        child_uuid, name='sdk-root-2')))
    rec.run('delete root', lambda: pl.delete_resource_provider(root_uuid))
    rec.run('delete missing ignored', lambda: pl.delete_resource_provider(root_uuid))
    rec.run('delete missing strict', lambda: pl.delete_resource_provider(
        root_uuid, ignore_missing=False))
    rec.run('list after delete', lambda: [attrs(r) for r in pl.resource_providers()])

    rec.run('class create', lambda: attrs(pl.create_resource_class(name='CUSTOM_SDK')))
    rec.run('class create bad', lambda: attrs(pl.create_resource_class(name='SDK')))
    rec.run('class get', lambda: attrs(pl.get_resource_class('CUSTOM_SDK')))
    rec.run('class get standard', lambda: attrs(pl.get_resource_class('VCPU')))
    rec.run('class list', lambda: [attrs(r) for r in pl.resource_classes()])
    rec.run('class update standard', lambda: attrs(pl.update_resource_class('VCPU', name='CUSTOM_X')))
    rec.run('class delete', lambda: pl.delete_resource_class('CUSTOM_SDK'))
    rec.run('class delete standard', lambda: pl.delete_resource_class('VCPU', ignore_missing=False))
    rec.run('class get deleted', lambda: attrs(pl.get_resource_class('CUSTOM_SDK')))


# ---------------------------------------------------------------------------------------------
# Nova's SchedulerReportClient

def suite_nova(rec):
    import nova.monkey_patch  # noqa: F401 - as nova-compute runs (ProviderTree locks, deepcopy)
    import logging
    import nova.conf
    from nova import context as nova_context
    from nova import exception as nova_exc
    from nova import objects
    from nova.scheduler import utils as sched_utils
    from nova.scheduler.client import report
    objects.register_all()

    # The configuration nova-compute would have: keystoneauth's admin_token plugin (a fixed
    # token, the endpoint given) in [placement]; Nova then builds its openstacksdk adapter
    # from it (nova.utils.get_sdk_adapter), as in production.
    confdir = tempfile.mkdtemp(prefix='ingot-clients-')
    conf = os.path.join(confdir, 'nova.conf')
    with open(conf, 'w') as f:
        f.write('[placement]\nauth_type = admin_token\ntoken = admin\nendpoint = %s\n'
                'endpoint_override = %s\n' % (rec.endpoint, rec.endpoint))
    nova.conf.CONF(['--config-file', conf], project='nova')

    logged = []

    class Capture(logging.Handler):
        def emit(self, record):
            logged.append('%s %s' % (record.levelname, record.getMessage()))

    nova_log = logging.getLogger('nova')
    nova_log.setLevel(logging.WARNING)
    nova_log.addHandler(Capture())
    nova_log.propagate = False

    client = report.SchedulerReportClient()
    ctx = nova_context.get_admin_context()
    project, user = rec.uuid('project'), rec.uuid('user')

    def step(name, fn):
        """Run fn, record its value or exception and what Nova logged meanwhile."""
        del logged[:]
        try:
            value = fn()
            result = {'value': value}
        except Exception as e:  # noqa: BLE001 - the exception is the client-visible answer
            value, result = None, {'exception': exception_summary(e)}
            result['exception']['type'] = type(e).__name__
            if isinstance(e, nova_exc.NovaException):
                result['exception'].pop('status_code', None)
        if logged:
            result['log'] = list(logged)
        rec.add(name, result)
        return value

    def dump_tree(tree):
        out = []
        for u in tree.get_provider_uuids():
            d = tree.data(u)
            out.append({'uuid': d.uuid, 'name': d.name, 'generation': d.generation,
                        'parent': d.parent_uuid, 'inventory': d.inventory,
                        'traits': d.traits, 'aggregates': d.aggregates})
        return out

    def placement_view(root):
        """What the client reads back about a tree: providers, inventories, traits,
        aggregates and allocations, through its own read methods."""
        out = []
        for p in client.get_providers_in_tree(ctx, root):
            u = p['uuid']
            out.append({
                'provider': p,
                'inventory': client._get_inventory(ctx, u),
                'traits': client.get_provider_traits(ctx, u),
                'aggregates': client._get_provider_aggregates(ctx, u),
                'allocations': client.get_allocations_for_resource_provider(ctx, u).allocations,
            })
        return out

    def inv(total, ratio=1.0, reserved=0, max_unit=None):
        return {'total': total, 'reserved': reserved, 'min_unit': 1,
                'max_unit': max_unit or total, 'step_size': 1, 'allocation_ratio': ratio}

    cn = rec.uuid('cn')
    numa0, numa1, pf0 = rec.uuid('cn-numa0'), rec.uuid('cn-numa1'), rec.uuid('cn-numa0-pf0')
    agg = rec.uuid('agg')
    inst1, inst2, migration = rec.uuid('instance1'), rec.uuid('instance2'), rec.uuid('migration')

    tree = step('ensure root', lambda: dump_tree(client.get_provider_tree_and_ensure_root(
        ctx, cn, name='compute-0')))

    def build():
        t = client.get_provider_tree_and_ensure_root(ctx, cn)
        t.update_inventory(cn, {'VCPU': inv(16, 16.0), 'MEMORY_MB': inv(32768, 1.5, 512),
                                'DISK_GB': inv(1000, 1.0, 0, 500)})
        # One standard trait per provider (see suite_cli): provider summaries list traits
        # in trait id order.
        t.update_traits(cn, ['HW_CPU_X86_AVX2', 'CUSTOM_RACK_A', 'CUSTOM_ZONE_B'])
        t.update_aggregates(cn, [agg])
        t.new_child('compute-0_numa0', cn, uuid=numa0)
        t.new_child('compute-0_numa1', cn, uuid=numa1)
        t.new_child('compute-0_numa0_pf0', numa0, uuid=pf0)
        t.update_inventory(numa0, {'CUSTOM_PCPU_NUMA': inv(4)})
        t.update_inventory(numa1, {'CUSTOM_PCPU_NUMA': inv(4)})
        t.update_inventory(pf0, {'SRIOV_NET_VF': inv(8), 'NET_BW_EGR_KILOBIT_PER_SEC': inv(10000)})
        t.update_traits(pf0, ['CUSTOM_PHYSNET_PUBLIC', 'HW_NIC_SRIOV'])
        client.update_from_provider_tree(ctx, t)
        return dump_tree(client.get_provider_tree_and_ensure_root(ctx, cn))
    step('update_from_provider_tree nested', build)
    step('read back nested', lambda: placement_view(cn))

    step('set_inventory_for_provider', lambda: client.set_inventory_for_provider(
        ctx, numa1, {'CUSTOM_PCPU_NUMA': inv(6), 'CUSTOM_MEM_PAGE_1G': inv(8)}))
    step('set_inventory_for_provider bad class', lambda: client.set_inventory_for_provider(
        ctx, numa1, {'NOT_A_CLASS': inv(1)}))
    step('set_traits_for_provider', lambda: client.set_traits_for_provider(
        ctx, numa1, ['CUSTOM_NUMA_NODE', 'HW_NUMA_ROOT']))
    step('set_aggregates_for_provider', lambda: client.set_aggregates_for_provider(
        ctx, numa1, [agg]))
    step('read back after sets', lambda: placement_view(cn))
    step('get_provider_by_name', lambda: client.get_provider_by_name(ctx, 'compute-0_numa1'))
    step('get_provider_by_name missing', lambda: client.get_provider_by_name(ctx, 'nope'))

    def candidates(groups, policy=None):
        # As the scheduler builds it from a flavor's extra specs (resources[S]:RC=N,
        # trait[S]:T=required, group_policy), through the same helpers.
        rr = sched_utils.ResourceRequest()
        for suffix, resources, required in groups:
            for rc, n in resources.items():
                rr._add_resource(rc, n, group=suffix or None)
            for t in required:
                rr._add_trait(t, 'required', group=suffix or None)
        if policy:
            rr._add_group_policy(policy)
        reqs, summaries, version = client.get_allocation_candidates(ctx, rr)
        if reqs:
            # Upstream collects a tree's allocation requests in a Python set, so their order
            # is not part of the contract: compare them sorted (by their normalized form).
            # Normalize before dumping: keys sorted as raw UUIDs would follow the run's
            # random UUIDs, and so would the order.
            reqs = sorted(reqs, key=lambda r: json.dumps(rec.norm(r), sort_keys=True))
        return reqs, summaries, version

    ac = step('candidates flat', lambda: candidates([('', {'VCPU': 2, 'MEMORY_MB': 2048},
                                                      ['HW_CPU_X86_AVX2'])]))
    step('candidates nested granular', lambda: candidates(
        [('', {'VCPU': 1}, []), ('pci', {'SRIOV_NET_VF': 1, 'NET_BW_EGR_KILOBIT_PER_SEC': 1000},
                                  ['CUSTOM_PHYSNET_PUBLIC']),
         ('numa', {'CUSTOM_PCPU_NUMA': 2}, [])], policy='isolate'))
    step('candidates none', lambda: candidates([('', {'VCPU': 1000}, [])]))
    step('candidates bad trait', lambda: candidates([('', {'VCPU': 1}, ['CUSTOM_NOT_THERE'])]))

    def claim(consumer, alloc_req, version):
        ok = client.claim_resources(ctx, consumer, alloc_req, project, user, version)
        return {'claimed': ok, 'allocs': client.get_allocs_for_consumer(ctx, consumer)}

    if ac and ac[0]:
        step('claim first candidate', lambda: claim(inst1, ac[0][0], ac[2]))
    else:
        rec.add('claim first candidate', {'skipped': 'no candidate'})
    nested = {'allocations': {cn: {'resources': {'VCPU': 1, 'MEMORY_MB': 1024}},
                              pf0: {'resources': {'SRIOV_NET_VF': 1}},
                              numa0: {'resources': {'CUSTOM_PCPU_NUMA': 2}}}}
    step('claim nested', lambda: claim(inst2, nested, '1.36'))
    step('claim over capacity', lambda: claim(
        rec.uuid('instance3'), {'allocations': {numa0: {'resources': {'CUSTOM_PCPU_NUMA': 3}}}},
        '1.36'))
    step('move_allocations', lambda: {
        'moved': client.move_allocations(ctx, inst2, migration),
        'source': client.get_allocs_for_consumer(ctx, inst2),
        'target': client.get_allocs_for_consumer(ctx, migration)})
    step('move_allocations nothing to move', lambda: client.move_allocations(ctx, inst2, migration))
    step('allocations for tree', lambda: client.get_allocations_for_provider_tree(ctx, 'compute-0'))
    step('usages for quota', lambda: client.get_usages_counts_for_quota(ctx, project, user))

    def reshape():
        # Move the root's VCPU into the two NUMA children, with the allocations against it.
        t = client.get_provider_tree_and_ensure_root(ctx, cn)
        allocs = client.get_allocations_for_provider_tree(ctx, 'compute-0')
        root_inv = dict(t.data(cn).inventory)
        root_inv.pop('VCPU')
        t.update_inventory(cn, root_inv)
        t.update_inventory(numa0, dict(t.data(numa0).inventory, VCPU=inv(8, 16.0)))
        t.update_inventory(numa1, dict(t.data(numa1).inventory, VCPU=inv(8, 16.0)))
        for a in allocs.values():
            res = a['allocations'].get(cn, {}).get('resources', {})
            if 'VCPU' in res:
                vcpu = res.pop('VCPU')
                a['allocations'].setdefault(numa0, {'resources': {}})['resources']['VCPU'] = vcpu
        client.update_from_provider_tree(ctx, t, allocations=allocs)
        return dump_tree(client.get_provider_tree_and_ensure_root(ctx, cn))
    # The client's cached generations are stale after the claims and the move (allocations
    # bump them), so the first reshape meets a conflict and clears the cache; the resource
    # tracker then redrives it from a fresh tree, as here.
    step('reshape with stale cache', reshape)
    step('reshape', reshape)
    step('read back after reshape', lambda: placement_view(cn))
    step('allocations after reshape', lambda: {
        c: client.get_allocs_for_consumer(ctx, c) for c in (inst1, migration)})

    def bad_reshape():
        t = client.get_provider_tree_and_ensure_root(ctx, cn)
        allocs = client.get_allocations_for_provider_tree(ctx, 'compute-0')
        t.update_inventory(numa0, dict(t.data(numa0).inventory, VCPU=inv(1, 1.0)))
        client.update_from_provider_tree(ctx, t, allocations=allocs)
    step('reshape below usage', bad_reshape)

    # Deletions behind the client's cache: the client still believes in what was removed.
    def stale(fn):
        def run():
            t = client.get_provider_tree_and_ensure_root(ctx, cn)
            status = fn()
            out = {'behind': status}
            try:
                client.update_from_provider_tree(ctx, t)
                out['first'] = 'ok'
            except Exception as e:  # noqa: BLE001
                out['first'] = type(e).__name__
            try:
                # As the resource tracker's next pass: a fresh tree from the client, which
                # the driver then edits back into the state it wants (here: t's).
                client.get_provider_tree_and_ensure_root(ctx, cn)
                client.update_from_provider_tree(ctx, t)
                out['second'] = 'ok'
                out['tree'] = dump_tree(client.get_provider_tree_and_ensure_root(ctx, cn))
            except Exception as e:  # noqa: BLE001
                out['second'] = type(e).__name__
            return out
        return run

    step('traits replaced behind cache', stale(lambda: http(
        rec, 'PUT', '/resource_providers/%s/traits' % numa1,
        {'traits': ['HW_CPU_X86_SSE'], 'resource_provider_generation':
         http(rec, 'GET', '/resource_providers/%s' % numa1)[1]['generation']})))
    step('read back after traits recovery', lambda: placement_view(cn))
    step('child deleted behind cache', stale(lambda: http(
        rec, 'DELETE', '/resource_providers/%s' % numa1)))
    step('read back after child recovery', lambda: placement_view(cn))

    def root_gone():
        statuses = [http(rec, 'DELETE', '/allocations/%s' % c)[0] for c in (inst1, migration)]
        for u in (pf0, numa0, numa1, cn):
            statuses.append(http(rec, 'DELETE', '/resource_providers/%s' % u)[0])
        return statuses
    step('whole tree deleted behind cache', stale(root_gone))
    step('read back after tree deleted', lambda: placement_view(cn))

    def recreate():
        client.clear_provider_cache()
        t = client.get_provider_tree_and_ensure_root(ctx, cn, name='compute-0')
        t.update_inventory(cn, {'VCPU': inv(16, 16.0)})
        if not t.exists(numa0):
            t.new_child('compute-0_numa0', cn, uuid=numa0)
        t.update_inventory(numa0, {'CUSTOM_PCPU_NUMA': inv(4)})
        client.update_from_provider_tree(ctx, t)
        return client.claim_resources(ctx, inst1, {'allocations': {
            cn: {'resources': {'VCPU': 2}}, numa0: {'resources': {'CUSTOM_PCPU_NUMA': 1}}}},
            project, user, '1.36')
    step('recreate after cache clear', recreate)

    class ComputeNode:
        uuid = cn
        host = 'compute-0'
        hypervisor_hostname = 'compute-0'

    step('delete_resource_provider in use', lambda: client.delete_resource_provider(
        ctx, ComputeNode()))
    step('read back after refused delete', lambda: placement_view(cn))
    step('delete_allocation_for_instance', lambda: client.delete_allocation_for_instance(
        ctx, inst1, force=True))
    step('delete_resource_provider', lambda: client.delete_resource_provider(ctx, ComputeNode()))
    step('providers after delete', lambda: http(rec, 'GET', '/resource_providers'))
    step('delete_allocation_for_instance gone', lambda: client.delete_allocation_for_instance(
        ctx, inst1))
    step('cache after delete', lambda: dump_tree(client._provider_tree))


SUITES = {'cli': suite_cli, 'sdk': suite_sdk, 'nova': suite_nova}


def same(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def differences(a, b, path='', limit=12):
    """Where b (this server's answer) differs from a (the real Placement's): one line per
    differing leaf, numbers as written (1.0 is not 1), long strings around the first change."""
    out = []

    def walk(a, b, path):
        if len(out) >= limit or same(a, b):
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in list(a) + [k for k in b if k not in a]:
                if k not in b:
                    out.append('%s.%s: missing (expected %s)' % (path, k, brief(a[k])))
                elif k not in a:
                    out.append('%s.%s: unexpected %s' % (path, k, brief(b[k])))
                else:
                    walk(a[k], b[k], '%s.%s' % (path, k))
            return
        if isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append('%s: %d items, expected %d' % (path or '.', len(b), len(a)))
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, '%s[%d]' % (path, i))
            return
        if isinstance(a, str) and isinstance(b, str):
            i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            lo = max(0, i - 60)
            out.append('%s: strings differ at character %d:\n        expected ...%s\n        got      ...%s'
                       % (path or '.', i, json.dumps(a[lo:i + 100]), json.dumps(b[lo:i + 100])))
            return
        out.append('%s: got %s, expected %s' % (path or '.', brief(b), brief(a)))

    walk(a, b, path)
    return out


def brief(v):
    t = json.dumps(v, sort_keys=True)
    return t if len(t) <= 200 else t[:200] + '...'


def check(steps, expected_doc):
    expected = {s['step']: s['result'] for s in expected_doc['steps']}
    order = [s['step'] for s in expected_doc['steps']]
    got = {s['step']: s['result'] for s in steps}
    passed = failed = 0
    for name in order + [s['step'] for s in steps if s['step'] not in expected]:
        if name not in got:
            print('FAIL %s: step not run' % name)
            failed += 1
        elif name not in expected:
            print('FAIL %s: step not in the expectations (re-record)' % name)
            failed += 1
        elif same(expected[name], got[name]):
            passed += 1
        else:
            failed += 1
            print('FAIL %s' % name)
            for line in differences(expected[name], got[name]):
                print('    ' + line)
    return passed, failed


def main(argv):
    if len(argv) != 5 or argv[1] not in ('record', 'check') or argv[2] not in SUITES:
        sys.stderr.write(__doc__)
        return 2
    mode, suite, endpoint, path = argv[1:]
    rec = Recorder(endpoint)
    SUITES[suite](rec)
    if mode == 'record':
        with open(path, 'w') as f:
            json.dump({'suite': suite, 'microversion': MICROVERSION, 'steps': rec.steps}, f,
                      indent=1, sort_keys=True)
            f.write('\n')
        print('%s: recorded %d steps in %s' % (suite, len(rec.steps), path))
        return 0
    with open(path) as f:
        expected_doc = json.load(f)
    passed, failed = check(rec.steps, expected_doc)
    print('%s: %d passed, %d failed' % (suite, passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
