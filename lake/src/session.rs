//! The query session: a DataFusion context with the catalogued tables registered under their
//! database (`ccp_logs.logs`, and `logs` as the default schema), their stores registered by
//! URL, `information_schema` on (`SHOW TABLES`, `SHOW COLUMNS FROM logs`), and Athena's
//! functions ([`dialect`](crate::dialect)). SQL errors come back with the query and, for syntax
//! errors, a caret under the place.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, OrderByKind, Statement, Value};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::analysis::{self, CatalogTable};
use crate::crawl::TableEntry;
use crate::schema::ColumnType;
use crate::store::ScanCountingStore;
use crate::table::DeliveredTable;

/// A query's answer.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// The result's columns.
    pub schema: SchemaRef,
    /// The rows.
    pub batches: Vec<RecordBatch>,
    /// The result columns a top-level `ORDER BY` sorts on (every column when its terms are
    /// not plain output columns); `None` when the rows come in no defined order.
    pub order_keys: Option<Vec<usize>>,
    /// Bytes the query read from the tables' stores (what Athena bills as data scanned,
    /// before its per-query minimum).
    pub bytes_scanned: u64,
}

impl QueryResult {
    /// Number of rows.
    pub fn row_count(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Why a query or a registration failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The SQL does not parse, plan or run.
    #[error("query failed: {message}\n{pointer}")]
    Sql {
        /// DataFusion's message.
        message: String,
        /// The query, with a caret under the place when the error gives one.
        pointer: String,
        /// Where the parser says the problem is (line, column; 1-based), when it says.
        position: Option<(u64, u64)>,
    },
    /// Athena's analyzer refuses the query ([`analysis`](crate::analysis)): a table the
    /// catalog does not hold, or operands of kinds Athena does not compare.
    #[error("query failed: {code}: {message}\n{pointer}")]
    Refused {
        /// Athena's error name (`TYPE_MISMATCH`, `TABLE_NOT_FOUND`).
        code: &'static str,
        /// `line L:C: ...`, in Athena's words.
        message: String,
        /// The query, with a caret under the place.
        pointer: String,
    },
    /// A statement that is not a query: SQL here only reads.
    #[error(
        "query refused: {statement} is not allowed: SQL run here only reads the catalogued tables \
         (our rule: no statement may create, drop or alter tables, write files (COPY, INSERT) or \
         change settings (SET), so that no query reaches the file system)\n{pointer}"
    )]
    ReadOnly {
        /// What the statement was, as DataFusion names it (`CreateExternalTable`, `COPY`, ...).
        statement: String,
        /// The query.
        pointer: String,
    },
    /// A table could not be registered.
    #[error("cannot register table {table}: {message}")]
    Register {
        /// The table.
        table: String,
        /// Why.
        message: String,
    },
}

/// The session the tables are queried in.
pub struct Lake {
    context: SessionContext,
    /// The registered tables' stores, each counting what is read from it.
    counters: std::sync::Mutex<Vec<Arc<ScanCountingStore>>>,
    /// The catalogued tables as Athena's analyzer sees them (columns and types, or not there
    /// yet).
    catalog: std::sync::Mutex<Vec<CatalogTable>>,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake").finish_non_exhaustive()
    }
}

impl Lake {
    /// A session whose default schema is `database`.
    pub fn new(database: &str) -> Self {
        let config = SessionConfig::new()
            .with_default_catalog_and_schema("awsdatacatalog", database)
            .with_information_schema(true);
        let context = SessionContext::new_with_config(config);
        crate::dialect::register(&context);
        Self {
            context,
            counters: std::sync::Mutex::new(Vec::new()),
            catalog: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The DataFusion context (for registering more).
    pub fn context(&self) -> &SessionContext {
        &self.context
    }

    /// Registers a catalogued table (and its store) as `database.name`.
    pub fn register(&self, entry: TableEntry) -> Result<(), QueryError> {
        let table = entry.qualified_name();
        let fail = |message: String| QueryError::Register {
            table: table.clone(),
            message,
        };
        let url = ObjectStoreUrl::parse(&entry.location.url).map_err(|e| fail(e.to_string()))?;
        let counter = Arc::new(ScanCountingStore::new(Arc::clone(&entry.location.store)));
        self.context
            .register_object_store(url.as_ref(), Arc::clone(&counter) as _);
        if let Ok(mut counters) = self.counters.lock() {
            counters.push(counter);
        }
        self.ensure_schema(&entry.database)
            .map_err(|e| fail(e.to_string()))?;
        let columns = entry
            .columns
            .iter()
            .cloned()
            .chain(
                entry
                    .partition_columns
                    .iter()
                    .map(|c| (c.clone(), ColumnType::String)),
            )
            .collect();
        self.catalogue(CatalogTable {
            database: entry.database.clone(),
            name: entry.name.clone(),
            columns,
            exists: true,
        });
        self.context
            .register_table(
                format!("{}.{}", entry.database, entry.name),
                Arc::new(DeliveredTable::new(Arc::new(entry))),
            )
            .map_err(|e| fail(e.to_string()))?;
        Ok(())
    }

    /// Records that the catalog does not hold `database.name` yet (a crawler's table before its
    /// first run): queries naming it fail with Athena's `TABLE_NOT_FOUND`.
    pub fn register_missing(&self, database: &str, name: &str) {
        self.catalogue(CatalogTable {
            database: database.to_owned(),
            name: name.to_owned(),
            columns: Vec::new(),
            exists: false,
        });
    }

    fn catalogue(&self, table: CatalogTable) {
        if let Ok(mut catalog) = self.catalog.lock() {
            catalog.retain(|t| !(t.database == table.database && t.name == table.name));
            catalog.push(table);
        }
    }

    /// Registers rows held in memory as table `name` (in the default schema).
    pub fn register_batches(
        &self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<(), QueryError> {
        let fail = |e: datafusion::error::DataFusionError| QueryError::Register {
            table: name.to_owned(),
            message: e.to_string(),
        };
        let table = MemTable::try_new(schema, vec![batches]).map_err(fail)?;
        self.context
            .register_table(name, Arc::new(table))
            .map_err(fail)?;
        Ok(())
    }

    fn ensure_schema(&self, database: &str) -> datafusion::error::Result<()> {
        let state = self.context.state();
        let catalog_name = &state.config_options().catalog.default_catalog;
        let Some(catalog) = self.context.catalog(catalog_name) else {
            return Ok(());
        };
        if catalog.schema(database).is_none() {
            catalog.register_schema(
                database,
                Arc::new(datafusion::catalog::MemorySchemaProvider::new()),
            )?;
        }
        Ok(())
    }

    /// Bytes read from the tables' stores since the last call.
    fn take_bytes_scanned(&self) -> u64 {
        self.counters
            .lock()
            .map(|counters| counters.iter().map(|c| c.take_bytes_read()).sum())
            .unwrap_or(0)
    }

    /// Runs one SQL statement (one at a time per session: the bytes scanned are counted per
    /// session).
    pub async fn query(&self, sql: &str) -> Result<QueryResult, QueryError> {
        let fail = |e: datafusion::error::DataFusionError| sql_error(sql, &e.to_string());
        let refused = match self.catalog.lock() {
            Ok(catalog) => analysis::check(sql, &catalog),
            Err(_) => None,
        };
        if let Some(refusal) = refused {
            return Err(QueryError::Refused {
                code: refusal.code,
                message: refusal.message,
                pointer: pointer(sql, Some(refusal.at)),
            });
        }
        self.take_bytes_scanned();
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let frame = self
            .context
            .sql_with_options(sql, read_only)
            .await
            .map_err(|e| read_only_refusal(sql, &e).unwrap_or_else(|| fail(e)))?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await.map_err(fail)?;
        let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let order_keys = order_keys(sql, &columns);
        Ok(QueryResult {
            schema,
            batches,
            order_keys,
            bytes_scanned: self.take_bytes_scanned(),
        })
    }
}

/// The output columns the outermost `ORDER BY` of `sql` sorts on: by name, alias or ordinal;
/// every column when a term is an expression; `None` without `ORDER BY`.
pub fn order_keys(sql: &str, columns: &[&str]) -> Option<Vec<usize>> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql).ok()?;
    let order_by = statements.iter().find_map(|statement| match statement {
        Statement::Query(query) => query.order_by.as_ref(),
        _ => None,
    })?;
    let every = || (0..columns.len()).collect();
    let OrderByKind::Expressions(terms) = &order_by.kind else {
        return Some(every());
    };
    let mut keys = Vec::new();
    for term in terms {
        let key = match &term.expr {
            SqlExpr::Identifier(ident) => columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(&ident.value)),
            SqlExpr::CompoundIdentifier(parts) => parts.last().and_then(|ident| {
                columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(&ident.value))
            }),
            SqlExpr::Value(value) => match &value.value {
                Value::Number(n, _) => n
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .filter(|i| *i < columns.len()),
                _ => None,
            },
            _ => None,
        };
        match key {
            Some(key) => keys.push(key),
            None => return Some(every()),
        }
    }
    Some(keys)
}

/// The statement DataFusion's read-only SQL options refused, if that is what `error` is.
fn read_only_refusal(sql: &str, error: &datafusion::error::DataFusionError) -> Option<QueryError> {
    let datafusion::error::DataFusionError::Plan(message) = error.find_root() else {
        return None;
    };
    [
        "DDL not supported: ",
        "DML not supported: ",
        "Statement not supported: ",
    ]
    .iter()
    .find_map(|prefix| message.strip_prefix(prefix))
    .map(|statement| QueryError::ReadOnly {
        statement: statement.trim().to_owned(),
        pointer: pointer(sql, None),
    })
}

/// The error with the query under it, and a caret where the parser says the problem is.
fn sql_error(sql: &str, message: &str) -> QueryError {
    let position = message
        .rsplit_once("Line: ")
        .and_then(|(_, rest)| rest.split_once(", Column: "))
        .and_then(|(line, rest)| {
            let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some((line.parse::<u64>().ok()?, column.parse::<u64>().ok()?))
        });
    QueryError::Sql {
        message: message.trim().to_owned(),
        pointer: pointer(sql, position),
        position,
    }
}

/// The query, indented, with a caret under `position` (line, column; 1-based).
fn pointer(sql: &str, position: Option<(u64, u64)>) -> String {
    let mut pointer = String::new();
    for (number, text) in sql.lines().enumerate() {
        pointer.push_str(&format!("  | {text}\n"));
        if let Some((line, column)) = position
            && line == number as u64 + 1
        {
            let indent = usize::try_from(column.saturating_sub(1)).unwrap_or(0);
            pointer.push_str(&format!("  | {}^\n", " ".repeat(indent)));
        }
    }
    pointer.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_keys_are_the_outermost_order_by_terms() {
        let columns = ["k", "n"];
        assert_eq!(
            order_keys("SELECT k, n FROM t ORDER BY n DESC", &columns),
            Some(vec![1])
        );
        assert_eq!(
            order_keys("SELECT k, n FROM t ORDER BY 1, t.n", &columns),
            Some(vec![0, 1])
        );
        assert_eq!(
            order_keys("SELECT k, n FROM t ORDER BY length(k)", &columns),
            Some(vec![0, 1]),
            "an expression orders by every column"
        );
        assert_eq!(
            order_keys("SELECT k FROM (SELECT k FROM t ORDER BY k) s", &columns),
            None
        );
        assert_eq!(order_keys("SELECT k, n FROM t", &columns), None);
    }

    #[tokio::test]
    async fn a_syntax_error_points_at_its_place() {
        let lake = Lake::new("ccp_logs");
        let error = lake.query("SELECT 1\nFROM t GROUP x").await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains("  | FROM t GROUP x\n  |        ^"), "{text}");
    }

    #[tokio::test]
    async fn an_unknown_table_is_named() {
        let lake = Lake::new("ccp_logs");
        let text = lake
            .query("SELECT * FROM nope")
            .await
            .unwrap_err()
            .to_string();
        assert!(text.contains("nope"), "{text}");
    }

    /// SQL from users, saved queries and scenarios only reads: each kind of statement that
    /// would define a table over a local path, write a file, change data or change a setting
    /// is refused before it runs, naming what it was, and nothing is written.
    #[tokio::test]
    async fn statements_that_reach_the_file_system_are_refused_by_name() {
        let lake = Lake::new("ccp_logs");
        let dir = std::env::temp_dir().join(format!("lake-read-only-{}", std::process::id()));
        let target = dir.join("out.csv");
        let refused = [
            (
                "CREATE EXTERNAL TABLE secrets (line VARCHAR) STORED AS CSV LOCATION '/etc/passwd'"
                    .to_owned(),
                "CreateExternalTable",
            ),
            (
                format!(
                    "COPY (SELECT 1 AS a) TO '{}' STORED AS CSV",
                    target.display()
                ),
                "COPY",
            ),
            (
                "CREATE TABLE t AS SELECT 1 AS a".to_owned(),
                "CreateMemoryTable",
            ),
            ("CREATE VIEW v AS SELECT 1 AS a".to_owned(), "CreateView"),
            ("DROP TABLE IF EXISTS ledger".to_owned(), "DropTable"),
            (
                "SET datafusion.execution.target_partitions = 1".to_owned(),
                "SetVariable",
            ),
        ];
        for (sql, statement) in refused {
            let error = lake.query(&sql).await.unwrap_err();
            assert!(
                matches!(&error, QueryError::ReadOnly { statement: s, .. } if s == statement),
                "{sql}: {error}"
            );
            assert!(error.to_string().contains("only reads"), "{error}");
        }
        assert!(!target.exists(), "COPY wrote {}", target.display());
        // Reading still works, EXPLAIN and information_schema included.
        for sql in [
            "SELECT 1 AS a",
            "EXPLAIN SELECT 1 AS a",
            "SELECT table_name FROM information_schema.tables",
            "SHOW TABLES",
        ] {
            lake.query(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}
