//! Helpers built on channels and contexts: [`WaitGroup`], [`ErrGroup`] /
//! [`AsyncErrGroup`] (x/sync/errgroup) and the weighted [`Semaphore`]
//! (x/sync/semaphore).

mod async_group;
mod err_group;
mod semaphore;
#[cfg(feature = "tokio")]
mod tokio_group;
mod wait_group;

pub use async_group::AsyncErrGroup;
pub use err_group::ErrGroup;
pub use semaphore::Semaphore;
#[cfg(feature = "tokio")]
pub use tokio_group::TokioErrGroup;
pub use wait_group::WaitGroup;

/// The cause an error group gives its context: the first error, as text (the error
/// itself is returned by `wait`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCause(pub String);

impl std::fmt::Display for GroupCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GroupCause {}
