#!/usr/bin/env python3
"""The IAM grants of a rendered template at two revisions, as (role or policy, effect, action,
resource, condition) rows, and which rows went and came:

    scripts/policy-diff.py OLD NEW [deploy/template.json]

Each statement is flattened to one row per action and resource; intrinsic functions are kept
as written (Fn::Sub strings, ${Id.Attr} for GetAtt, the true branch of Fn::If)."""
import json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
def load(rev, path):
    return json.loads(subprocess.check_output(['git','show',f'{rev}:{path}'], cwd=ROOT))
def flat(v):
    if isinstance(v, list): return [x for i in v for x in flat(i)]
    if isinstance(v, dict):
        if 'Fn::Sub' in v: return [v['Fn::Sub'] if isinstance(v['Fn::Sub'], str) else v['Fn::Sub'][0]]
        if 'Fn::GetAtt' in v: return ['${%s.%s}' % tuple(v['Fn::GetAtt'])]
        if 'Ref' in v: return ['${%s}' % v['Ref']]
        if 'Fn::If' in v: return flat(v['Fn::If'][1])
        return [json.dumps(v)]
    return [v]
def grants(t):
    out = set()
    for rid, r in t['Resources'].items():
        p = r.get('Properties', {})
        docs = []
        if r['Type'] == 'AWS::IAM::Role':
            for pol in p.get('Policies', []): docs.append(pol['PolicyDocument'])
            for arn in p.get('ManagedPolicyArns', []): out.add((rid, 'MANAGED', str(arn), '', ''))
        if r['Type'] in ('AWS::S3::BucketPolicy', 'AWS::SQS::QueuePolicy'):
            docs.append(p['PolicyDocument'])
        for d in docs:
            for s in d['Statement']:
                if 'Fn::If' in s: s = s['Fn::If'][1]
                cond = json.dumps(s.get('Condition', {}), sort_keys=True) if s.get('Condition') else ''
                for a in flat(s.get('Action', s.get('NotAction'))):
                    for res in flat(s.get('Resource', s.get('NotResource', '*'))):
                        out.add((rid, s['Effect'], a, res, cond))
    return out
old, new = sys.argv[1], sys.argv[2]
path = sys.argv[3] if len(sys.argv) > 3 else 'deploy/template.json'
a, b = grants(load(old, path)), grants(load(new, path))
print(f'{path}: {len(a)} (role/policy, effect, action, resource, condition) grants at {old}, {len(b)} at {new}')
for g in sorted(a - b): print('-', ' | '.join(g))
for g in sorted(b - a): print('+', ' | '.join(g))
