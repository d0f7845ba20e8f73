//! The stack's alarms ([`stack::resources::alarms`]), evaluated against a run's own
//! measurements: which would have fired on AWS, on what value, and why. The metrics are
//! counted as the services count them: a dead letter is a message in the function's
//! dead-letter queue; each failed attempt of an invocation is one of Lambda's `Errors`; the
//! oldest record's age when its object was written is Firehose's data freshness.

use serde::Serialize;
use stack::resources::alarms::{AlarmSpec, alarm_specs};

/// One alarm's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmVerdict {
    /// `AlarmName`.
    pub name: String,
    /// Namespace, metric and dimension.
    pub metric: String,
    /// The threshold and how it compares.
    pub threshold: String,
    /// What the run measured.
    pub observed: f64,
    /// Whether it would have fired.
    pub fired: bool,
    /// When, simulated time since the run's start, where the run knows it (a dead letter's
    /// time; for errors, the first failed attempt of the first dead letter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// What it means.
    pub meaning: String,
}

/// What the alarms' metrics read in a run.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// Dead letters sent, per function.
    pub dead_letters: Vec<(String, usize)>,
    /// The first dead letter's time per function, simulated ms since the run's start.
    pub first_dead_letter_ms: Vec<(String, i64)>,
    /// Failed invocation attempts (Lambda's `Errors`), per function.
    pub errors: Vec<(String, usize)>,
    /// The Firehose model's largest data freshness, seconds.
    pub freshness_seconds: f64,
    /// Records that failed format conversion.
    pub failed_conversions: usize,
}

/// Every alarm of `definition`, evaluated on `measured`.
pub fn evaluate(definition: &stack::StackDefinition, measured: &Measured) -> Vec<AlarmVerdict> {
    alarm_specs(definition)
        .into_iter()
        .map(|spec| {
            let observed = value(&spec, measured);
            let fired = spec.breached(observed);
            AlarmVerdict {
                at: if fired { when(&spec, measured) } else { None },
                name: spec.name.clone(),
                metric: format!(
                    "{} {} {}={}",
                    spec.namespace, spec.metric, spec.dimension.0, spec.dimension.1
                ),
                threshold: format!("{} {} {}", spec.statistic, spec.comparison, spec.threshold),
                observed,
                fired,
                meaning: spec.description.clone(),
            }
        })
        .collect()
}

/// When `spec` fired, where the run knows it.
fn when(spec: &AlarmSpec, measured: &Measured) -> Option<String> {
    let dimension = spec.dimension.1.as_str();
    let first = |function: &dyn Fn(&str) -> bool| {
        measured
            .first_dead_letter_ms
            .iter()
            .filter(|(f, _)| function(f))
            .map(|(_, ms)| *ms)
            .min()
    };
    let ms = match spec.metric {
        "ApproximateNumberOfMessagesVisible" => {
            first(&|f| stack::dead_letter_queue_name(f) == dimension)?
        }
        // Lambda's retries waited one and two minutes before the letter was sent.
        "Errors" => {
            first(&|f| f == dimension)?
                - standins::lambda::retries::RETRY_WAITS_MS
                    .iter()
                    .sum::<i64>()
        }
        _ => return None,
    };
    Some(format!("{:.1} s into the run", ms.max(0) as f64 / 1000.0))
}

fn value(spec: &AlarmSpec, measured: &Measured) -> f64 {
    let of = |list: &[(String, usize)], function: &str| {
        list.iter()
            .filter(|(f, _)| f == function)
            .map(|(_, n)| *n)
            .sum::<usize>() as f64
    };
    let dimension = spec.dimension.1.as_str();
    match spec.metric {
        "ApproximateNumberOfMessagesVisible" => measured
            .dead_letters
            .iter()
            .filter(|(f, _)| stack::dead_letter_queue_name(f) == dimension)
            .map(|(_, n)| *n)
            .sum::<usize>() as f64,
        "Errors" => of(&measured.errors, dimension),
        "DeliveryToS3.DataFreshness" => measured.freshness_seconds,
        "FailedConversion.Records" => measured.failed_conversions as f64,
        // Throttles: the harness limits no function's concurrency.
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_fires_its_functions_queue_alarm_and_nothing_else_fires_on_nothing() {
        let definition = stack::StackDefinition::default();
        let quiet = evaluate(&definition, &Measured::default());
        assert!(quiet.iter().all(|v| !v.fired), "{quiet:?}");
        let etl = definition.logs.etl_function_name.clone();
        let measured = Measured {
            dead_letters: vec![(etl.clone(), 1)],
            errors: vec![(etl.clone(), 3)],
            ..Measured::default()
        };
        let fired: Vec<String> = evaluate(&definition, &measured)
            .into_iter()
            .filter(|v| v.fired)
            .map(|v| v.name)
            .collect();
        assert_eq!(
            fired,
            [format!("{etl}-dead-letters"), format!("{etl}-errors")]
        );
    }
}
