//! What Athena's analyzer refuses before a query runs and DataFusion would run anyway: a table
//! the catalog does not hold yet (before the crawler's first run), and a comparison of a
//! column with a literal of another kind (`win_level IN (1, 2)` against a `string` column,
//! which DataFusion coerces and Athena refuses). Each comes back in Athena's words: the error
//! name, `line L:C:` at the place Trino points to, and Trino's message.
//!
//! Sources (Athena engine 3 is Trino):
//! - `TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.t' does not exist`: Trino's
//!   `StatementAnalyzer` ("Table '%s' does not exist"), at the table name.
//! - `TYPE_MISMATCH: line L:C: Cannot apply operator: varchar = integer`: Trino's
//!   `ExpressionAnalyzer` (an operator not found for the operand types), as Athena users
//!   report it word for word; Trino resolves `<>` as `=` and `>`/`>=` as `<`/`<=` with the
//!   operands swapped, and points at the operator.
//! - `TYPE_MISMATCH: line L:C: IN value and list items must be the same type or coercible to a
//!   common type. Cannot find common type between varchar and integer, all types (without
//!   duplicates): [varchar, integer]`: Trino's `ExpressionAnalyzer.coerceToSingleType`, at the
//!   first item of the type that does not fit (the message as Trino returns it in
//!   finos/legend-engine's Trino test expectations).
//!
//! Scope (ours): comparisons and `IN` lists between a column of a catalogued table and
//! literals, in a `SELECT` whose `FROM` names only catalogued tables; other type errors are
//! DataFusion's to find (`docs/queries.md`).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Query, Select, SetExpr, Spanned as _, Statement, TableFactor,
    UnaryOperator, Value, visit_expressions,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Location;

use crate::schema::ColumnType;

/// A query Athena's analyzer refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Athena's error name (`TYPE_MISMATCH`, `TABLE_NOT_FOUND`).
    pub code: &'static str,
    /// `line L:C: ...`, as Athena words it.
    pub message: String,
    /// Where, 1-based (line, column).
    pub at: (u64, u64),
}

/// A table as the catalog holds it.
#[derive(Debug, Clone)]
pub struct CatalogTable {
    /// Its database.
    pub database: String,
    /// Its name.
    pub name: String,
    /// Its data columns and their types; partition columns are `string`.
    pub columns: Vec<(String, ColumnType)>,
    /// Whether the catalog holds it yet (a crawler's table before its first run does not).
    pub exists: bool,
}

impl CatalogTable {
    fn named_by(&self, parts: &[String]) -> bool {
        let Some((last, rest)) = parts.split_last() else {
            return false;
        };
        last.eq_ignore_ascii_case(&self.name)
            && rest
                .last()
                .is_none_or(|db| db.eq_ignore_ascii_case(&self.database))
    }

    fn column(&self, name: &str) -> Option<ColumnType> {
        self.columns
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, t)| *t)
    }
}

/// Checks `sql` against the catalog's `tables`: the first refusal Athena would give, if any.
/// SQL that does not parse is left to DataFusion, which names the syntax error.
pub fn check(sql: &str, tables: &[CatalogTable]) -> Option<Refusal> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql).ok()?;
    let mut analyzer = Analyzer { sql, tables };
    statements.iter().find_map(|statement| match statement {
        Statement::Query(query) => analyzer.query(query),
        _ => None,
    })
}

struct Analyzer<'a> {
    sql: &'a str,
    tables: &'a [CatalogTable],
}

/// The kinds Trino cannot compare with each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    Boolean,
}

/// An operand's type: its kind and Trino's name for it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Typed {
    kind: Kind,
    name: String,
}

impl Analyzer<'_> {
    fn query(&mut self, query: &Query) -> Option<Refusal> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                if let Some(refusal) = self.query(&cte.query) {
                    return Some(refusal);
                }
            }
        }
        self.set_expr(&query.body)
    }

    fn set_expr(&mut self, body: &SetExpr) -> Option<Refusal> {
        match body {
            SetExpr::Select(select) => self.select(select),
            SetExpr::Query(query) => self.query(query),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left).or_else(|| self.set_expr(right))
            }
            _ => None,
        }
    }

    fn select(&mut self, select: &Select) -> Option<Refusal> {
        let mut scope: Vec<&CatalogTable> = Vec::new();
        let mut only_catalogued = true;
        let relations = select
            .from
            .iter()
            .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
        for relation in relations {
            match relation {
                TableFactor::Table { name, .. } => {
                    let parts: Vec<String> = name
                        .0
                        .iter()
                        .filter_map(|part| part.as_ident().map(|i| i.value.clone()))
                        .collect();
                    match self.tables.iter().find(|t| t.named_by(&parts)) {
                        Some(table) if !table.exists => {
                            let at = location(name.span().start);
                            return Some(Refusal {
                                code: "TABLE_NOT_FOUND",
                                message: format!(
                                    "line {}:{}: Table 'awsdatacatalog.{}.{}' does not exist",
                                    at.0, at.1, table.database, table.name
                                ),
                                at,
                            });
                        }
                        Some(table) => scope.push(table),
                        None => only_catalogued = false,
                    }
                }
                TableFactor::Derived { subquery, .. } => {
                    only_catalogued = false;
                    if let Some(refusal) = self.query(subquery) {
                        return Some(refusal);
                    }
                }
                _ => only_catalogued = false,
            }
        }
        if !only_catalogued || scope.is_empty() {
            return None;
        }
        select
            .selection
            .iter()
            .chain(select.having.iter())
            .find_map(|expr| self.expression(expr, &scope))
    }

    fn expression(&self, expr: &Expr, scope: &[&CatalogTable]) -> Option<Refusal> {
        let found = visit_expressions(expr, |e| match self.node(e, scope) {
            Some(refusal) => ControlFlow::Break(refusal),
            None => ControlFlow::Continue(()),
        });
        match found {
            ControlFlow::Break(refusal) => Some(refusal),
            ControlFlow::Continue(()) => None,
        }
    }

    fn node(&self, expr: &Expr, scope: &[&CatalogTable]) -> Option<Refusal> {
        match expr {
            Expr::BinaryOp { left, op, right } => self.comparison(left, op, right, scope),
            Expr::InList { expr, list, .. } => self.in_list(expr, list, scope),
            _ => None,
        }
    }

    fn comparison(
        &self,
        left: &Expr,
        op: &BinaryOperator,
        right: &Expr,
        scope: &[&CatalogTable],
    ) -> Option<Refusal> {
        let (symbol, swapped) = match op {
            BinaryOperator::Eq | BinaryOperator::NotEq => ("=", false),
            BinaryOperator::Lt => ("<", false),
            BinaryOperator::LtEq => ("<=", false),
            BinaryOperator::Gt => ("<", true),
            BinaryOperator::GtEq => ("<=", true),
            _ => return None,
        };
        let (l, r) = (operand(left, scope)?, operand(right, scope)?);
        if l.kind == r.kind {
            return None;
        }
        let (first, second) = if swapped { (&r, &l) } else { (&l, &r) };
        let at = self.after(left.span().end);
        Some(Refusal {
            code: "TYPE_MISMATCH",
            message: format!(
                "line {}:{}: Cannot apply operator: {} {symbol} {}",
                at.0, at.1, first.name, second.name
            ),
            at,
        })
    }

    fn in_list(&self, value: &Expr, list: &[Expr], scope: &[&CatalogTable]) -> Option<Refusal> {
        let mut types: Vec<Typed> = Vec::new();
        let mut offender: Option<(&Expr, &Typed)> = None;
        let first = operand(value, scope)?;
        types.push(first.clone());
        let typed: Vec<(&Expr, Typed)> = list
            .iter()
            .map(|e| operand(e, scope).map(|t| (e, t)))
            .collect::<Option<_>>()?;
        for (expr, t) in &typed {
            if !types.contains(t) {
                types.push(t.clone());
            }
            if offender.is_none() && t.kind != first.kind {
                offender = Some((expr, t));
            }
        }
        let (expr, t) = offender?;
        let at = location(expr.span().start);
        let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
        Some(Refusal {
            code: "TYPE_MISMATCH",
            message: format!(
                "line {}:{}: IN value and list items must be the same type or coercible to a \
                 common type. Cannot find common type between {} and {}, all types (without \
                 duplicates): [{}]",
                at.0,
                at.1,
                first.name,
                t.name,
                names.join(", ")
            ),
            at,
        })
    }

    /// The first character that is not white space after `end` (where Trino puts an operator).
    fn after(&self, end: Location) -> (u64, u64) {
        let (mut line, mut column) = (end.line, end.column);
        let Some(text) = self
            .sql
            .lines()
            .nth(usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX))
        else {
            return location(end);
        };
        let mut chars = text
            .chars()
            .skip(usize::try_from(column).unwrap_or(0).saturating_sub(1));
        // The span's end is the operand's last character; step past it, then past spaces.
        if chars.next().is_some() {
            column += 1;
        }
        for c in chars {
            if !c.is_whitespace() {
                return (line, column);
            }
            column += 1;
        }
        line += 1;
        let next = self
            .sql
            .lines()
            .nth(usize::try_from(line - 1).unwrap_or(usize::MAX))
            .unwrap_or_default();
        let indent = next.chars().take_while(|c| c.is_whitespace()).count();
        (line, indent as u64 + 1)
    }
}

fn location(at: Location) -> (u64, u64) {
    (at.line, at.column)
}

/// The type of a column reference or a literal; `None` for anything else (left to DataFusion).
fn operand(expr: &Expr, scope: &[&CatalogTable]) -> Option<Typed> {
    match expr {
        Expr::Nested(inner) => operand(inner, scope),
        Expr::Identifier(ident) => column(&ident.value, scope),
        Expr::CompoundIdentifier(parts) => column(&parts.last()?.value, scope),
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => operand(expr, scope).filter(|t| t.kind == Kind::Number),
        Expr::Value(value) => literal(&value.value),
        _ => None,
    }
}

fn column(name: &str, scope: &[&CatalogTable]) -> Option<Typed> {
    let mut found = scope.iter().filter_map(|t| t.column(name));
    let column = found.next()?;
    if found.next().is_some() {
        return None;
    }
    let (kind, name) = match column {
        ColumnType::Boolean => (Kind::Boolean, "boolean"),
        ColumnType::Int => (Kind::Number, "integer"),
        ColumnType::BigInt => (Kind::Number, "bigint"),
        ColumnType::Double => (Kind::Number, "double"),
        ColumnType::Unknown | ColumnType::String => (Kind::Text, "varchar"),
    };
    Some(Typed {
        kind,
        name: name.to_owned(),
    })
}

/// Trino's type of a literal: `1` integer (bigint beyond 32 bits), `1.5` decimal(2,1), `1e3`
/// double, `'abc'` varchar(3).
fn literal(value: &Value) -> Option<Typed> {
    let (kind, name) = match value {
        Value::Number(text, _) => (Kind::Number, number_type(text)),
        Value::SingleQuotedString(text) => {
            (Kind::Text, format!("varchar({})", text.chars().count()))
        }
        Value::Boolean(_) => (Kind::Boolean, "boolean".to_owned()),
        _ => return None,
    };
    Some(Typed { kind, name })
}

fn number_type(text: &str) -> String {
    if text.contains(['e', 'E']) {
        return "double".to_owned();
    }
    if let Some((whole, fraction)) = text.split_once('.') {
        let digits = whole.trim_start_matches('0').len() + fraction.len();
        return format!("decimal({},{})", digits.max(1), fraction.len());
    }
    match text.parse::<i64>() {
        Ok(n) if i32::try_from(n).is_ok() => "integer".to_owned(),
        _ => "bigint".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(exists: bool) -> Vec<CatalogTable> {
        vec![CatalogTable {
            database: "ccp_logs".into(),
            name: "logs".into(),
            columns: vec![
                ("win_level".into(), ColumnType::String),
                ("pid".into(), ColumnType::Int),
                ("message".into(), ColumnType::String),
            ],
            exists,
        }]
    }

    #[test]
    fn a_string_column_in_a_list_of_integers_is_refused_at_the_first_integer() {
        let sql = "SELECT count(*) FROM logs\nWHERE win_level IN (1, 2)";
        let refusal = check(sql, &logs(true)).unwrap();
        assert_eq!(refusal.code, "TYPE_MISMATCH");
        assert_eq!(
            refusal.message,
            "line 2:21: IN value and list items must be the same type or coercible to a common \
             type. Cannot find common type between varchar and integer, all types (without \
             duplicates): [varchar, integer]"
        );
    }

    #[test]
    fn comparisons_name_trinos_operator_and_point_at_it() {
        let refusal = check(
            "SELECT * FROM ccp_logs.logs WHERE win_level = 2",
            &logs(true),
        );
        assert_eq!(
            refusal.unwrap().message,
            "line 1:45: Cannot apply operator: varchar = integer"
        );
        let refusal = check("SELECT * FROM logs WHERE pid > 'x'", &logs(true));
        assert_eq!(
            refusal.unwrap().message,
            "line 1:30: Cannot apply operator: varchar(1) < integer"
        );
    }

    #[test]
    fn matching_kinds_other_tables_and_derived_tables_pass() {
        let tables = logs(true);
        for sql in [
            "SELECT * FROM logs WHERE win_level IN ('1', '2') AND pid >= 10 AND pid = 1.5",
            "SELECT * FROM ledger WHERE win_level IN (1, 2)",
            "SELECT * FROM (SELECT CAST(win_level AS int) AS win_level FROM logs) WHERE win_level = 1",
            "SELECT * FROM logs WHERE CAST(win_level AS integer) IN (1, 2)",
            "not sql at all",
        ] {
            assert_eq!(check(sql, &tables), None, "{sql}");
        }
    }

    #[test]
    fn a_table_the_catalog_does_not_hold_yet_is_not_found() {
        let refusal = check("SELECT count(*) FROM ccp_logs.logs", &logs(false)).unwrap();
        assert_eq!(refusal.code, "TABLE_NOT_FOUND");
        assert_eq!(
            refusal.message,
            "line 1:22: Table 'awsdatacatalog.ccp_logs.logs' does not exist"
        );
    }

    #[test]
    fn literals_are_typed_as_trino_types_them() {
        assert_eq!(number_type("7"), "integer");
        assert_eq!(number_type("5000000000"), "bigint");
        assert_eq!(number_type("1.50"), "decimal(3,2)");
        assert_eq!(number_type("1e3"), "double");
    }
}
