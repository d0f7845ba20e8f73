"""Every saved query of a workgroup run through two Python clients our users have, boto3 and
PyAthena, against the endpoint in AWS_ENDPOINT_URL_ATHENA (botocore's per-service endpoint
variable, which PyAthena's boto3 session honours too). Prints one JSON object:
{"boto3": {name: {"columns": [[name, type]], "rows": [[str|null]]}}, "pyathena": {name: rows}}.
PyAthena converts values by the column types Athena reports; they are turned back into
Athena's text (integers as digits, null as null) so that both compare with the same rows."""

import json
import sys
import time

import boto3
from pyathena import connect

region, workgroup = sys.argv[1:3]
athena = boto3.client("athena", region_name=region)


def saved_queries():
    ids = []
    for page in athena.get_paginator("list_named_queries").paginate(WorkGroup=workgroup):
        ids.extend(page["NamedQueryIds"])
    queries = []
    for start in range(0, len(ids), 50):
        answer = athena.batch_get_named_query(NamedQueryIds=ids[start:start + 50])
        queries.extend(answer["NamedQueries"])
    return queries


def through_boto3(query):
    started = athena.start_query_execution(
        QueryString=query["QueryString"],
        QueryExecutionContext={"Database": query["Database"]},
        WorkGroup=workgroup,
    )
    qid = started["QueryExecutionId"]
    while True:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.05)
    if status["State"] != "SUCCEEDED":
        raise SystemExit(f"{query['Name']}: {status['State']}: {status.get('StateChangeReason')}")
    rows, columns = [], None
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        if columns is None:
            columns = [[c["Name"], c["Type"]] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
        rows.extend([d.get("VarCharValue") for d in row["Data"]] for row in page["ResultSet"]["Rows"])
    return {"columns": columns, "rows": rows[1:]}


def athena_text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def through_pyathena(query):
    cursor = connect(region_name=region, work_group=workgroup, schema_name=query["Database"]).cursor()
    cursor.execute(query["QueryString"])
    return [[athena_text(v) for v in row] for row in cursor.fetchall()]


queries = saved_queries()
print(json.dumps({
    "boto3": {q["Name"]: through_boto3(q) for q in queries},
    "pyathena": {q["Name"]: through_pyathena(q) for q in queries},
}))
