//! Helpers built on channels and contexts: [`WaitGroup`], [`ErrGroup`] /
//! [`AsyncErrGroup`] (x/sync/errgroup) and the weighted [`Semaphore`]
//! (x/sync/semaphore).

mod async_group;
mod err_group;
mod semaphore;
mod wait_group;

pub use async_group::AsyncErrGroup;
pub use err_group::ErrGroup;
pub use semaphore::Semaphore;
pub use wait_group::WaitGroup;
