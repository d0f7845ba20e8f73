//! Amazon Data Firehose delivery to S3, where LocalStack writes one uncompressed object per
//! call with prefixes kept literally: one delivery stream ([`stream`]) configured from the
//! stack definition ([`config`]), buffering and compression ([`buffer`]), format conversion to
//! Parquet ([`convert`]), object keys and prefix expressions ([`keys`]), where objects go
//! ([`writers`]), and the two ways records come in: Firehose's JSON endpoint for an SDK client
//! ([`endpoint`]) and, in the memory world, a record sink without HTTP ([`sink`]). The API's
//! limits are the pipeline's ([`pipeline::firehose`]), defined once.

pub mod buffer;
pub mod config;
pub mod convert;
pub mod endpoint;
pub mod keys;
pub mod sink;
pub mod stream;
pub mod writers;

pub use config::{
    FIREHOSE_GZIP_LEVEL, MODEL_ACCOUNT, MODEL_REGION, StreamConfig, StreamConfigError,
};
pub use endpoint::FirehoseEndpoint;
pub use sink::ModelSink;
pub use stream::{
    ArrivalClock, BILLING_UNIT_BYTES, CallRefused, DeliveryStats, DeliveryStream, EntryOutcome,
    LandedObject, S3_RETRY_WINDOW_MS, WRITE_RETRY_BASE_MS, WRITE_RETRY_MAX_MS, billed_bytes,
    write_retry_wait_ms,
};
pub use writers::{MemoryObjects, ObjectWriter, S3Objects, StoreObjects, WriteError};
