//! `loglab redrive` against LocalStack's SQS: the dead letters of a function are received,
//! handed to the function asynchronously and deleted; what the function refuses stays in the
//! queue, named; a dry run counts and touches nothing. LocalStack runs no function here, so
//! the accepting side is a recorder of the Invoke port, and the real Lambda client is tried
//! on a function that does not exist (its refusal must leave the message in the queue).
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::sync::Mutex;

use stack::redrive::{InvokeAsync, InvokeRefused, redrive};

use crate::support::endpoint;

/// Accepts every event but those containing "poison", and records what it was handed.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String)>>);

impl InvokeAsync for Recorder {
    async fn invoke_async(&self, function: &str, payload: &str) -> Result<(), InvokeRefused> {
        if payload.contains("poison") {
            return Err(InvokeRefused {
                function: function.to_owned(),
                message: "Lambda refused it (test)".to_owned(),
            });
        }
        self.0
            .lock()
            .unwrap()
            .push((function.to_owned(), payload.to_owned()));
        Ok(())
    }
}

async fn queue_with(sqs: &aws_sdk_sqs::Client, function: &str, bodies: &[&str]) -> String {
    let url = sqs
        .create_queue()
        .queue_name(stack::dead_letter_queue_name(function))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    sqs.purge_queue().queue_url(&url).send().await.unwrap();
    for body in bodies {
        sqs.send_message()
            .queue_url(&url)
            .message_body(*body)
            .send()
            .await
            .unwrap();
    }
    url
}

async fn messages_left(sqs: &aws_sdk_sqs::Client, url: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let count = |name: A| -> usize {
        attributes
            .attributes()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    count(A::ApproximateNumberOfMessages) + count(A::ApproximateNumberOfMessagesNotVisible)
}

#[tokio::test]
async fn dead_letters_are_sent_back_and_deleted_and_refusals_stay_named() {
    let Some(url) = endpoint() else { return };
    let config = pipeline::emulator::sdk_config(&url, "eu-south-1").await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let function = "redrive-test-etl";
    let queue = queue_with(
        &sqs,
        function,
        &[r#"{"n":1}"#, r#"{"n":2}"#, r#"{"poison":3}"#],
    )
    .await;

    let recorder = Recorder::default();
    let done = redrive(&sqs, &recorder, function, 100, false)
        .await
        .unwrap();
    assert_eq!((done.received, done.sent_back), (3, 2), "{done:?}");
    assert_eq!(done.failed.len(), 1);
    assert!(
        done.failed[0].contains("Lambda refused it"),
        "{:?}",
        done.failed
    );
    let handed = recorder.0.lock().unwrap().clone();
    assert_eq!(handed.len(), 2);
    assert!(
        handed
            .iter()
            .all(|(f, body)| f == function && body.starts_with("{\"n\""))
    );
    assert_eq!(
        messages_left(&sqs, &queue).await,
        1,
        "the refused one stays"
    );

    // A dry run counts and leaves everything in place.
    let counted = "redrive-test-dry";
    let dry_queue = queue_with(&sqs, counted, &["{}", "{}"]).await;
    let dry = redrive(&sqs, &recorder, counted, 100, true).await.unwrap();
    assert_eq!((dry.received, dry.sent_back), (2, 0));
    assert_eq!(messages_left(&sqs, &dry_queue).await, 2);

    // The real Lambda client: a function that does not exist refuses, and the letter stays.
    let lambda = aws_sdk_lambda::Client::new(&config);
    let missing = "redrive-test-no-such-function";
    let missing_queue = queue_with(&sqs, missing, &["{}"]).await;
    let refused = redrive(&sqs, &lambda, missing, 100, false).await.unwrap();
    assert_eq!((refused.received, refused.sent_back), (1, 0));
    assert!(
        refused.failed[0].contains("ResourceNotFoundException"),
        "{:?}",
        refused.failed
    );
    assert_eq!(messages_left(&sqs, &missing_queue).await, 1);
}
