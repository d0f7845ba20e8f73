//! The replay harness: a scenario ([`scenario`]) expanded into a fleet ([`fleet`]) and the records
//! its instances write ([`workload`], [`generate`]), run end to end over a world (the emulator or
//! memory, [`run`]) with the AWS stand-ins (`standins`) where the emulator cannot stand in, every
//! record and its fate kept in the [`ledger`], the bucket read back ([`landed`]) and catalogued
//! and queried as Athena would ([`catalog`], on `lake`; [`athena_client`] through Athena's API), and the report's checks, the cost
//! estimate ([`cost`]) and the fidelity table ([`fidelity`]). [`backend`] is where the emulator
//! comes from. The stack definition and what provisions, audits and deploys it live in `stack`;
//! the `loglab` command sits on top.

pub mod alarms;
pub mod athena_client;
pub mod backend;
pub mod catalog;
pub mod cost;
pub mod fidelity;
pub mod fleet;
pub mod generate;
pub mod landed;
pub mod ledger;
pub mod run;
pub mod scenario;
pub mod verify;
pub mod workload;

pub(crate) use standins::locked;
