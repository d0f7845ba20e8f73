#!/usr/bin/env python3
"""The IAM policy documents of a CloudFormation template (the roles' inline policies, the bucket
and queue policies), with the template's intrinsic functions resolved to example values
(account 123456789012, us-east-1, each resource's ARN built from its type and name), one JSON
file per document: what scripts/parliament.sh lints.

    scripts/iam-policies.py deploy/template.json OUT_DIR
"""
import json, re, sys, pathlib

ACCOUNT, REGION = "123456789012", "us-east-1"

def arn(res_id, resources):
    r = resources.get(res_id, {})
    t, p = r.get("Type", ""), r.get("Properties", {})
    name = {
        "AWS::S3::Bucket": "ccp-logs-bucket", "AWS::SQS::Queue": p.get("QueueName", res_id),
        "AWS::KinesisFirehose::DeliveryStream": p.get("DeliveryStreamName", res_id),
        "AWS::Lambda::Function": p.get("FunctionName", res_id), "AWS::IAM::Role": res_id,
        "AWS::Events::Rule": p.get("Name", res_id), "AWS::SNS::Topic": res_id,
        "AWS::SSM::Parameter": str(p.get("Name", res_id)).lstrip("/"), "AWS::Logs::LogGroup": res_id,
    }.get(t, res_id)
    return {
        "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
        "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
        "AWS::KinesisFirehose::DeliveryStream": f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}",
        "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "AWS::Events::Rule": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}",
        "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
        "AWS::SSM::Parameter": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name}",
        "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
    }.get(t, f"arn:aws:unknown:{REGION}:{ACCOUNT}:{res_id}")

def resolve(v, resources):
    if isinstance(v, list):
        out = [resolve(x, resources) for x in v]
        return [x for x in out if x is not None]
    if not isinstance(v, dict):
        return v
    if len(v) == 1:
        (k, a), = v.items()
        if k == "Ref":
            return {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws",
                    "AWS::NoValue": None, "ReaderRoleArn": f"arn:aws:iam::{ACCOUNT}:role/readers"}.get(a, a)
        if k == "Fn::GetAtt":
            return arn(a[0], resources)
        if k == "Fn::If":
            return resolve(a[1], resources)
        if k == "Fn::Sub":
            text = a if isinstance(a, str) else a[0]
            def sub(m):
                inner = m.group(1)
                if inner.startswith("!"):
                    return "${" + inner[1:] + "}"
                if inner.endswith(".Arn"):
                    return arn(inner[:-4], resources)
                return str(resolve({"Ref": inner}, resources))
            return re.sub(r"\$\{([^}]+)\}", sub, text)
    return {k: resolve(x, resources) for k, x in v.items()}

template = json.load(open(sys.argv[1]))
out = pathlib.Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
resources = template["Resources"]
for rid, r in resources.items():
    p = r.get("Properties", {})
    docs = []
    if r["Type"] == "AWS::IAM::Role":
        docs += [(f"{rid}-{pol['PolicyName']}", pol["PolicyDocument"]) for pol in p.get("Policies", [])]
    if r["Type"] in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"):
        docs.append((rid, p["PolicyDocument"]))
    for name, doc in docs:
        (out / f"{name}.json").write_text(json.dumps(resolve(doc, resources), indent=1))
