"""The logic of AWS's Python "CloudWatch Logs processor" Firehose blueprint, as its documentation
describes it, written here for the ETL bench (none of the blueprint's code is copied): each
Firehose record's data is base64-decoded and gunzipped, the CloudWatch Logs payload parsed as
JSON, CONTROL_MESSAGE payloads dropped, and each log event of a DATA_MESSAGE turned into one
line (the blueprint's `transformLogEvent`); the lines are joined and base64-encoded as the
record's new data.

Two modes of `transformLogEvent`: `message` (the blueprint's default: the message and a
newline) and `json` (one JSON object per event: what our ETL writes).

    python3 blueprint.py MODE ITERATIONS PAYLOAD...

Each PAYLOAD is the gzip bytes a subscription delivers. Prints one line per payload:
`<payload> <log text bytes> <seconds per pass>` (the best of ITERATIONS passes), timed inside
the interpreter so that its start-up is not counted.
"""

import base64
import gzip
import json
import sys
import time


def transform_message(payload, event):
    return event["message"] + "\n"


def transform_json(payload, event):
    return (
        json.dumps(
            {
                "owner": payload["owner"],
                "logGroup": payload["logGroup"],
                "logStream": payload["logStream"],
                "id": event["id"],
                "timestamp": event["timestamp"],
                "message": event["message"],
            }
        )
        + "\n"
    )


def process_record(record, transform):
    payload = json.loads(gzip.decompress(base64.b64decode(record["data"])))
    if payload["messageType"] == "CONTROL_MESSAGE":
        return {"recordId": record["recordId"], "result": "Dropped"}
    if payload["messageType"] != "DATA_MESSAGE":
        return {"recordId": record["recordId"], "result": "ProcessingFailed"}
    joined = "".join(transform(payload, e) for e in payload["logEvents"])
    return {
        "recordId": record["recordId"],
        "result": "Ok",
        "data": base64.b64encode(joined.encode("utf-8")).decode("ascii"),
    }


def main():
    mode, iterations, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    transform = {"message": transform_message, "json": transform_json}[mode]
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        record = {"recordId": "1", "data": base64.b64encode(data).decode("ascii")}
        text = sum(len(e["message"].encode("utf-8")) for e in json.loads(gzip.decompress(data))["logEvents"])
        best = float("inf")
        for _ in range(iterations):
            start = time.perf_counter()
            out = process_record(record, transform)
            best = min(best, time.perf_counter() - start)
            assert out["result"] == "Ok"
        print(f"{path} {text} {best:.6f}")


if __name__ == "__main__":
    main()
