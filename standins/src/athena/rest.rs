//! Athena's REST-JSON binding of the same operations, which the newest AWS SDKs use (botocore
//! 1.44's model for Athena has `"protocol": "rest-json"`, where the Rust SDK's is AWS JSON 1.1):
//! the operation is named by the method and path (`GET /query-executions/{QueryExecutionId}`),
//! path and query-string members join the JSON body's. The routes are the `http` bindings of
//! Athena's service model (`botocore/data/athena/2017-05-18/service-2.json`).

use serde_json::{Map, Value, json};
use stack::resources::percent_decode;

/// The operation a REST request names and its input, or `None` for a route Athena does not
/// have here.
pub fn route(
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &Value,
) -> Option<(&'static str, Value)> {
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(|segment| percent_decode(segment, false))
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (operation, member) = match (method, segments.as_slice()) {
        ("POST", ["query-executions"]) => ("StartQueryExecution", None),
        ("GET", ["query-executions"]) => ("ListQueryExecutions", None),
        ("GET", ["query-executions", id]) => ("GetQueryExecution", Some(("QueryExecutionId", *id))),
        ("GET", ["query-executions", id, "results"]) => {
            ("GetQueryResults", Some(("QueryExecutionId", *id)))
        }
        ("POST", ["query-executions", id, "stop"]) => {
            ("StopQueryExecution", Some(("QueryExecutionId", *id)))
        }
        ("POST", ["batch-get-query-executions"]) => ("BatchGetQueryExecution", None),
        ("POST", ["workgroups"]) => ("CreateWorkGroup", None),
        ("GET", ["workgroups"]) => ("ListWorkGroups", None),
        ("GET", ["workgroups", name]) => ("GetWorkGroup", Some(("WorkGroup", *name))),
        ("PATCH", ["workgroups", name]) => ("UpdateWorkGroup", Some(("WorkGroup", *name))),
        ("DELETE", ["workgroups", name]) => ("DeleteWorkGroup", Some(("WorkGroup", *name))),
        ("POST", ["named-queries"]) => ("CreateNamedQuery", None),
        ("GET", ["named-queries"]) => ("ListNamedQueries", None),
        ("GET", ["named-queries", id]) => ("GetNamedQuery", Some(("NamedQueryId", *id))),
        ("PATCH", ["named-queries", id]) => ("UpdateNamedQuery", Some(("NamedQueryId", *id))),
        ("DELETE", ["named-queries", id]) => ("DeleteNamedQuery", Some(("NamedQueryId", *id))),
        ("POST", ["batch-get-named-queries"]) => ("BatchGetNamedQuery", None),
        ("GET", ["data-catalogs"]) => ("ListDataCatalogs", None),
        _ => return None,
    };
    let mut input: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value, false);
        let value = match key {
            "MaxResults" => value.parse::<i64>().map_or(json!(value), |n| json!(n)),
            _ => json!(value),
        };
        input.insert(percent_decode(key, false), value);
    }
    if let Some((key, value)) = member {
        input.insert(key.to_owned(), json!(value));
    }
    Some((operation, Value::Object(input)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_query_strings_become_the_operations_input() {
        let (operation, input) = route(
            "GET",
            "/query-executions/abc-1/results",
            Some("MaxResults=10&NextToken=t%2F1"),
            &Value::Null,
        )
        .unwrap();
        assert_eq!(operation, "GetQueryResults");
        assert_eq!(
            input,
            json!({ "QueryExecutionId": "abc-1", "MaxResults": 10, "NextToken": "t/1" })
        );
        let (operation, input) = route(
            "POST",
            "/query-executions",
            None,
            &json!({ "QueryString": "SELECT 1" }),
        )
        .unwrap();
        assert_eq!(
            (operation, &input["QueryString"]),
            ("StartQueryExecution", &json!("SELECT 1"))
        );
        let (operation, input) =
            route("PATCH", "/workgroups/ccp%20logs", None, &json!({})).unwrap();
        assert_eq!(
            (operation, &input["WorkGroup"]),
            ("UpdateWorkGroup", &json!("ccp logs"))
        );
        assert!(route("GET", "/prepared-statements", None, &Value::Null).is_none());
    }
}
