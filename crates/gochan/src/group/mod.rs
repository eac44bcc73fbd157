//! Helpers built on channels and contexts: [`WaitGroup`], [`ErrGroup`] /
//! [`AsyncErrGroup`] (x/sync/errgroup), the weighted [`Semaphore`] (x/sync/semaphore) and
//! [`SingleFlight`] (x/sync/singleflight).
//!
//! The error groups share one core (first error recorded once, context cancelled with a
//! [`GroupCause`], running members counted, `set_limit` slots) and one set of method
//! signatures; they differ in how a task runs: a thread ([`ErrGroup`]), a future polled by
//! `wait` ([`AsyncErrGroup`]) or a tokio task (`TokioErrGroup`, feature `tokio`).

mod async_group;
mod err_group;
mod first_error;
mod semaphore;
mod single_flight;
#[cfg(feature = "tokio")]
mod tokio_group;
mod wait_group;

pub use async_group::AsyncErrGroup;
pub use err_group::ErrGroup;
pub use first_error::GroupCause;
pub use semaphore::{Permit, Semaphore};
pub use single_flight::{FlightResult, SingleFlight};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use tokio_group::TokioErrGroup;
pub use wait_group::WaitGroup;
