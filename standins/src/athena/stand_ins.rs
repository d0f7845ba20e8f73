//! The Glue Data Catalog and Athena stand-ins started together over one catalog: what an
//! emulator run, `loglab up` and the tests put beside an emulator that has neither.

use std::sync::{Arc, Mutex};

use super::engine::Buckets;
use super::executions::Athena;
use crate::glue::{Catalog, SharedCatalog};
use crate::json_protocol::StandIn;

/// Both stand-ins, served while this lives.
#[derive(Debug)]
pub struct CatalogStandIns {
    /// The Glue Data Catalog both answer from.
    pub catalog: SharedCatalog,
    /// Athena over it.
    pub athena: Arc<Athena>,
    /// Where Glue's API answers.
    pub glue_endpoint: StandIn,
    /// Where Athena's API answers.
    pub athena_endpoint: StandIn,
}

/// The loopback ports to serve on (0: a free one each).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ports {
    /// Glue's.
    pub glue: u16,
    /// Athena's.
    pub athena: u16,
}

impl CatalogStandIns {
    /// Starts both for `account_id`, Athena reading and writing `buckets`.
    pub async fn start(
        account_id: &str,
        buckets: Arc<dyn Buckets>,
        ports: Ports,
    ) -> std::io::Result<Self> {
        let catalog = Arc::new(Mutex::new(Catalog::new(account_id)));
        let athena = Athena::new(Arc::clone(&catalog), buckets);
        let glue_endpoint = crate::glue::start_on(ports.glue, Arc::clone(&catalog)).await?;
        let athena_endpoint = super::start_on(ports.athena, Arc::clone(&athena)).await?;
        Ok(Self {
            catalog,
            athena,
            glue_endpoint,
            athena_endpoint,
        })
    }

    /// `clients` with Glue and Athena at these stand-ins (with `config`'s credentials and
    /// region).
    pub fn attach(
        &self,
        clients: stack::provision::Clients,
        config: &aws_config::SdkConfig,
    ) -> stack::provision::Clients {
        clients
            .with_glue_at(config, &self.glue_endpoint.endpoint)
            .with_athena_at(config, &self.athena_endpoint.endpoint)
    }
}
